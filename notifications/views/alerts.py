"""Alert rules (list, add, edit, switch off) and the Alerts page with acknowledge and resolve."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from notifications.forms.alerts import AlertRuleForm, mask_secret
from notifications.models import Alert, AlertRule
from notifications.services.alert_kinds import kind_label
from notifications.services.alerts import (
    alert_acknowledge,
    alert_list,
    alert_resolve,
    alert_rule_save,
    alert_rule_snapshot,
    alert_state_counts,
    open_alert_count,
)

RULES_PERMISSION = "notifications.change_alertrule"
VIEW_PERMISSION = "notifications.view_alert"
ACT_PERMISSION = "notifications.change_alert"
PAGE_SIZE = 50
REFRESH_SECONDS = 30  # how often the Alerts page asks for its counts


@require_GET
@permission_required(RULES_PERMISSION, raise_exception=True)
def alert_rule_list(request):
    rules = list(AlertRule.objects.all())
    for rule in rules:
        rule.kind_text = kind_label(rule.kind)
        rule.webhook_masked = mask_secret(rule.webhook_url)
    return render(request, "notifications/alert_rule_list.html", {"rules": rules})


def _rule_form(request, rule: AlertRule | None):
    rule = rule or AlertRule()
    before = alert_rule_snapshot(rule) if rule.pk else None
    form = AlertRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        saved = alert_rule_save(rule=form.save(commit=False), user=request.user, before=before)
        messages.success(request, _("Alert rule “%(name)s” saved.") % {"name": saved.name})
        return redirect("notifications:alert_rule_list")
    return render(request, "notifications/alert_rule_form.html", {"form": form, "rule": rule if rule.pk else None})


@require_http_methods(["GET", "POST"])
@permission_required(("notifications.add_alertrule", RULES_PERMISSION), raise_exception=True)
def alert_rule_create(request):
    return _rule_form(request, None)


@require_http_methods(["GET", "POST"])
@permission_required(RULES_PERMISSION, raise_exception=True)
def alert_rule_edit(request, pk: int):
    return _rule_form(request, get_object_or_404(AlertRule, pk=pk))


@require_POST
@permission_required(RULES_PERMISSION, raise_exception=True)
def alert_rule_toggle(request, pk: int):
    rule = get_object_or_404(AlertRule, pk=pk)
    before = alert_rule_snapshot(rule)
    rule.active = not rule.active
    alert_rule_save(rule=rule, user=request.user, before=before)
    if rule.active:
        messages.success(request, _("Alert rule “%(name)s” switched on.") % {"name": rule.name})
    else:
        messages.success(request, _("Alert rule “%(name)s” switched off; its open alerts are resolved.") % {"name": rule.name})
    return redirect("notifications:alert_rule_list")


@require_GET
@permission_required(VIEW_PERMISSION, raise_exception=True)
def alerts_page(request):
    state = request.GET.get("state", "")
    if state not in Alert.State.values:
        state = ""
    page = Paginator(alert_list(state=state), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/alerts_page.html", {
        "page": page, "alerts": page.object_list, "state": state, "states": Alert.State.choices, "counts": alert_state_counts(),
        "recent_days": settings.ALERTS_RECENT_DAYS, "refresh_seconds": REFRESH_SECONDS,
    })


@never_cache
@require_GET
@permission_required(VIEW_PERMISSION, raise_exception=True)
def alerts_status(request):
    """The counts the page and the top bar refresh themselves from."""
    return JsonResponse({"open": open_alert_count(), "by_state": alert_state_counts()})


def _act(request, pk: int, action, done_text: str, not_done_text: str):
    if action(alert_id=pk, user=request.user) is None:
        messages.info(request, not_done_text)
    else:
        messages.success(request, done_text)
    state = request.POST.get("state", "")
    url = reverse("notifications:alerts_page")
    return redirect(f"{url}?state={state}" if state in Alert.State.values else url)


@require_POST
@permission_required(ACT_PERMISSION, raise_exception=True)
def alert_acknowledge_view(request, pk: int):
    get_object_or_404(Alert, pk=pk)
    return _act(request, pk, alert_acknowledge, _("Alert acknowledged."), _("This alert was already acknowledged or resolved."))


@require_POST
@permission_required(ACT_PERMISSION, raise_exception=True)
def alert_resolve_view(request, pk: int):
    get_object_or_404(Alert, pk=pk)
    return _act(request, pk, alert_resolve, _("Alert resolved."), _("This alert was already resolved."))


urlpatterns = [
    path("alerts/", alerts_page, name="alerts_page"),
    path("alerts/status/", alerts_status, name="alerts_status"),
    path("alerts/<int:pk>/acknowledge/", alert_acknowledge_view, name="alert_acknowledge"),
    path("alerts/<int:pk>/resolve/", alert_resolve_view, name="alert_resolve"),
    path("alerts/rules/", alert_rule_list, name="alert_rule_list"),
    path("alerts/rules/new/", alert_rule_create, name="alert_rule_create"),
    path("alerts/rules/<int:pk>/", alert_rule_edit, name="alert_rule_edit"),
    path("alerts/rules/<int:pk>/toggle/", alert_rule_toggle, name="alert_rule_toggle"),
]
