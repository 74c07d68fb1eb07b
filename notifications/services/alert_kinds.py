"""The kinds of alert rule: for each, its thresholds and the evaluator that finds what is wrong now.

Adding a kind is one `AlertKind` here: its thresholds (the rule form builds its fields from them) and two functions,
`evaluate(params, rule, now)` returning the findings that hold now (one per subject), and `describe(details)`
writing a finding's figures as a sentence in the active language.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Exists, F, Max, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.models import CallerNumber, CallRecord, Campaign, CampaignRow, Qualification, TtsTemplate, VoiceFile
from notifications.models.choices import ReviewStatus
from notifications.services.campaign_send import DUE_STATES, campaign_quiet_until
from notifications.services.health import WAITING_FOR_RECEIPT, call_figures, duration_text, inbox_pending, last_receipt_at
from notifications.services.stats import ANSWERED


@dataclass(frozen=True)
class Param:
    """One threshold of a kind: a whole number within bounds, or one of a few choices."""

    name: str
    label: object
    default: int | str
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[tuple[str, object], ...] = ()
    help_text: object = ""


@dataclass(frozen=True)
class Finding:
    """A condition that holds now, about one subject ("" when the rule has one)."""

    subject_key: str = ""
    subject_label: str = ""
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class AlertKind:
    key: str
    label: object
    params: tuple[Param, ...]
    evaluate: Callable[[dict, object, datetime], list[Finding]]
    describe: Callable[[dict], str]

    def defaults(self) -> dict:
        return {param.name: param.default for param in self.params}

    def values(self, params: dict) -> dict:
        """The rule's thresholds with defaults for any it lacks (a kind that gained a threshold later)."""
        return {**self.defaults(), **{k: v for k, v in params.items() if k in self.defaults()}}


KINDS: dict[str, AlertKind] = {}


def register(kind: AlertKind) -> AlertKind:
    KINDS[kind.key] = kind
    return kind


def kind_choices() -> list[tuple[str, object]]:
    return [(kind.key, kind.label) for kind in KINDS.values()]


def kind_label(key: str) -> str:
    kind = KINDS.get(key)
    return str(kind.label) if kind else key


def describe(key: str, details: dict) -> str:
    kind = KINDS.get(key)
    if kind is None:
        return ""
    try:
        return kind.describe(details)
    except (KeyError, TypeError, ValueError):  # details written by an older version of the kind
        return ""


# ----- answer rate -----

def _answer_rate(params: dict, rule, now: datetime) -> list[Finding]:
    # "Final" and "answered" as the call history counts them; calls placed elsewhere are the account's, not ours.
    finals = CallRecord.objects.filter(status__in=CallRecord.FINAL_STATUSES, placed_elsewhere=False)
    if params["window"] == "minutes":
        finals = finals.filter(created_at__gte=now - timedelta(minutes=params["window_size"]), created_at__lte=now)
        outcomes = list(finals.values_list("outcome", flat=True))
    else:
        outcomes = list(finals.filter(created_at__lte=now).order_by("-created_at", "-id").values_list("outcome", flat=True)
                        [:params["window_size"]])
    total = len(outcomes)
    if total < params["min_calls"]:
        return []
    answered = sum(1 for outcome in outcomes if outcome in ANSWERED)
    rate = round(answered * 100 / total, 1)
    if rate >= params["threshold_percent"]:
        return []
    return [Finding(details={"rate": rate, "answered": answered, "total": total, "threshold": params["threshold_percent"],
                             "window": params["window"], "window_size": params["window_size"]})]


def _answer_rate_text(details: dict) -> str:
    if details["window"] == "minutes":
        window = _("the last %(count)d minutes") % {"count": details["window_size"]}
    else:
        window = _("the last %(count)d calls") % {"count": details["total"]}
    return _("Answer rate %(rate)s %% over %(window)s (%(answered)d of %(total)d answered), below %(threshold)s %%.") % {
        "rate": details["rate"], "window": window, "answered": details["answered"], "total": details["total"],
        "threshold": details["threshold"]}


register(AlertKind(
    key="answer_rate", label=gettext_lazy("Answer rate below a threshold"),
    params=(
        Param("threshold_percent", gettext_lazy("Answer rate below (%)"), 50, minimum=1, maximum=100),
        Param("window", gettext_lazy("Measured over"), "calls", choices=(
            ("calls", gettext_lazy("the last N calls")), ("minutes", gettext_lazy("the last N minutes")))),
        Param("window_size", gettext_lazy("N (calls or minutes)"), 100, minimum=1, maximum=100_000),
        Param("min_calls", gettext_lazy("Only with at least this many finished calls"), 10, minimum=1, maximum=100_000,
              help_text=gettext_lazy("Fewer finished calls than this say too little: the rule waits.")),
    ),
    evaluate=_answer_rate, describe=_answer_rate_text,
))


# ----- receipts stopped -----

def _receipt_silence(params: dict, rule, now: datetime) -> list[Finding]:
    cutoff = now - timedelta(minutes=params["minutes"])
    waiting = CallRecord.objects.filter(status__in=WAITING_FOR_RECEIPT, placed_elsewhere=False, sent_at__lt=cutoff)
    count = waiting.count()
    if not count:
        return []
    last = last_receipt_at()
    if last is not None and last >= cutoff:
        return []
    return [Finding(details={"minutes": params["minutes"], "waiting": count, "last_receipt_at": last.isoformat() if last else None})]


def _receipt_silence_text(details: dict) -> str:
    return _("No receipt for %(minutes)d minutes while %(count)d calls are in progress.") % {
        "minutes": details["minutes"], "count": details["waiting"]}


register(AlertKind(
    key="receipt_silence", label=gettext_lazy("No receipt while calls are in progress"),
    params=(Param("minutes", gettext_lazy("Minutes without a receipt"), 30, minimum=1, maximum=1440),),
    evaluate=_receipt_silence, describe=_receipt_silence_text,
))


# ----- backlog -----

def _backlog(params: dict, rule, now: datetime) -> list[Finding]:
    limit = params["minutes"] * 60
    findings = []
    if params["source"] in ("queue", "both"):
        oldest = call_figures(now)["oldest_due"]
        if oldest is not None and (now - oldest).total_seconds() > limit:
            findings.append(Finding("queue", _("Queued calls"), {"source": "queue", "minutes": params["minutes"],
                                                                 "age_seconds": round((now - oldest).total_seconds())}))
    if params["source"] in ("inbox", "both"):
        pending = inbox_pending()
        if pending["oldest"] is not None and (now - pending["oldest"]).total_seconds() > limit:
            findings.append(Finding("inbox", _("Receipt inbox"), {"source": "inbox", "minutes": params["minutes"],
                                                                  "count": pending["count"],
                                                                  "age_seconds": round((now - pending["oldest"]).total_seconds())}))
    return findings


def _backlog_text(details: dict) -> str:
    if details["source"] == "queue":
        return _("A queued call has been due for %(age)s (more than %(minutes)d minutes).") % {
            "age": duration_text(details["age_seconds"]), "minutes": details["minutes"]}
    return _("%(count)d receipt pushes not applied; the oldest arrived %(age)s ago (more than %(minutes)d minutes).") % {
        "count": details["count"], "age": duration_text(details["age_seconds"]), "minutes": details["minutes"]}


register(AlertKind(
    key="backlog", label=gettext_lazy("Queue or receipt inbox backlog"),
    params=(
        Param("source", gettext_lazy("Backlog of"), "both", choices=(
            ("queue", gettext_lazy("queued calls")), ("inbox", gettext_lazy("the receipt inbox")),
            ("both", gettext_lazy("both")))),
        Param("minutes", gettext_lazy("Older than (minutes)"), 10, minimum=1, maximum=1440),
    ),
    evaluate=_backlog, describe=_backlog_text,
))


# ----- expiry -----

def _expiry(params: dict, rule, now: datetime) -> list[Finding]:
    today = timezone.localdate(now)
    horizon = today + timedelta(days=params["days"])
    numbers = CallerNumber.objects.filter(expires_on__isnull=False, expires_on__lte=horizon).exclude(
        status=CallerNumber.Status.RELEASED).order_by("expires_on", "number")
    # Caller numbers are the account's own: every role sees them whole.
    findings = [Finding(f"number:{number.pk}", number.number, {
        "number": number.number, "expires_on": number.expires_on.isoformat(), "days_left": (number.expires_on - today).days,
        "days": params["days"]}) for number in numbers]
    qualifications = Qualification.objects.filter(expires_on__isnull=False, expires_on__lte=horizon).exclude(
        status=ReviewStatus.REJECTED).order_by("expires_on", "company_name")
    findings += [Finding(f"qualification:{item.pk}", item.company_name, {
        "qualification": item.company_name, "expires_on": item.expires_on.isoformat(),
        "days_left": (item.expires_on - today).days, "days": params["days"]}) for item in qualifications]
    return findings


def _expiry_text(details: dict) -> str:
    if "qualification" in details:
        if details["days_left"] < 0:
            return _("The qualification of %(name)s expired on %(date)s.") % {
                "name": details["qualification"], "date": details["expires_on"]}
        return _("The qualification of %(name)s expires on %(date)s, in %(days)d days.") % {
            "name": details["qualification"], "date": details["expires_on"], "days": details["days_left"]}
    if details["days_left"] < 0:
        return _("Caller number %(number)s expired on %(date)s.") % {"number": details["number"], "date": details["expires_on"]}
    return _("Caller number %(number)s expires on %(date)s, in %(days)d days.") % {
        "number": details["number"], "date": details["expires_on"], "days": details["days_left"]}


register(AlertKind(
    key="expiry", label=gettext_lazy("Caller number or qualification expiring"),
    params=(Param("days", gettext_lazy("Expiring within (days)"), 30, minimum=1, maximum=365,
                  help_text=gettext_lazy("30 and 7 are the usual.")),),
    evaluate=_expiry, describe=_expiry_text,
))


# ----- review rejected -----

def _rejected(params: dict, rule, now: datetime) -> list[Finding]:
    findings = []
    models = {"templates": [(TtsTemplate, "template")], "voice_files": [(VoiceFile, "voice_file")],
              "both": [(TtsTemplate, "template"), (VoiceFile, "voice_file")]}[params["resource"]]
    for model, prefix in models:
        # Rejections since the rule exists: older ones were known when it was set.
        for item in model.objects.filter(status=ReviewStatus.REJECTED, reviewed_at__gte=rule.created_at).order_by("reviewed_at"):
            findings.append(Finding(f"{prefix}:{item.pk}", item.name, {
                "resource": prefix, "name": item.name, "reason": item.reject_reason[:200]}))
    return findings


def _rejected_text(details: dict) -> str:
    if details["resource"] == "template":
        return _("Template %(name)s was rejected: %(reason)s") % {"name": details["name"], "reason": details["reason"] or "—"}
    return _("Voice file %(name)s was rejected: %(reason)s") % {"name": details["name"], "reason": details["reason"] or "—"}


register(AlertKind(
    key="review_rejected", label=gettext_lazy("Template or voice file rejected"),
    params=(Param("resource", gettext_lazy("Watch"), "both", choices=(
        ("templates", gettext_lazy("templates")), ("voice_files", gettext_lazy("voice files")), ("both", gettext_lazy("both")))),),
    evaluate=_rejected, describe=_rejected_text,
))


# ----- campaign stalled -----

def _stalled(params: dict, rule, now: datetime) -> list[Finding]:
    cutoff = now - timedelta(minutes=params["minutes"])
    due = CampaignRow.objects.filter(
        Q(state=CampaignRow.State.WAITING, next_attempt_at__isnull=True) | Q(state__in=DUE_STATES, next_attempt_at__lte=now),
        campaign=OuterRef("pk"))
    campaigns = (Campaign.objects.filter(state=Campaign.State.SENDING)
                 .annotate(has_due=Exists(due), last_call=Max("calls__created_at"))
                 .filter(has_due=True)
                 .annotate(since=Coalesce(F("last_call"), F("started_at"), F("approved_at")))
                 .filter(since__lt=cutoff))
    findings = []
    for campaign in campaigns:
        if campaign_quiet_until(campaign, now) is not None:
            continue  # in its quiet hours it is meant to wait
        findings.append(Finding(f"campaign:{campaign.pk}", campaign.name, {
            "name": campaign.name, "minutes": params["minutes"],
            "last_call_at": campaign.last_call.isoformat() if campaign.last_call else None}))
    return findings


def _stalled_text(details: dict) -> str:
    return _("Campaign %(name)s is sending but has placed no call for %(minutes)d minutes while rows are due.") % {
        "name": details["name"], "minutes": details["minutes"]}


register(AlertKind(
    key="campaign_stalled", label=gettext_lazy("Campaign stalled"),
    params=(Param("minutes", gettext_lazy("No call sent for (minutes)"), 10, minimum=1, maximum=1440),),
    evaluate=_stalled, describe=_stalled_text,
))


# ----- spend above a budget -----

def _spend(params: dict, rule, now: datetime) -> list[Finding]:
    """Today's or this month's estimated cost (the daily figures the Usage page reads) above the budget."""
    from notifications.services.usage import spent

    today = timezone.localdate(now)
    first = today if params["period"] == "day" else today.replace(day=1)
    cost = spent(first=first, last=today)
    if cost <= params["budget"]:
        return []
    subject = f"{params['period']}:{first.isoformat()}"  # a new day or month is a new alert; the last one resolves
    return [Finding(subject, first.isoformat(), {"period": params["period"], "first": first.isoformat(),
                                                  "spent": f"{cost:.2f}", "budget": params["budget"]})]


def _spend_text(details: dict) -> str:
    if details["period"] == "day":
        return _("Estimated spend on %(first)s is ¥%(spent)s, above the day's budget of ¥%(budget)d.") % details
    return _("Estimated spend this month (from %(first)s) is ¥%(spent)s, above the month's budget of ¥%(budget)d.") % details


register(AlertKind(
    key="spend", label=gettext_lazy("Spend above a budget"),
    params=(
        Param("period", gettext_lazy("Budget for"), "month", choices=(
            ("day", gettext_lazy("today")), ("month", gettext_lazy("this month")))),
        Param("budget", gettext_lazy("Budget (yuan)"), 1000, minimum=1, maximum=100_000_000,
              help_text=gettext_lazy("Estimated cost of the calls placed in the period, by the price list (Usage).")),
    ),
    evaluate=_spend, describe=_spend_text,
))
