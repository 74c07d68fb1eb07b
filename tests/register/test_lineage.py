"""A template's lineage: "Copy as new" links each version to the one it came from, and the template's page shows the
whole family with what each version's calls did."""
import itertools
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import CallRecord, ReviewStatus, TtsTemplate
from notifications.services.register import tts_template_copy
from notifications.services.template_lineage import tts_template_lineage

from .helpers import make_template

pytestmark = pytest.mark.django_db

_serial = itertools.count(1)
Status, Outcome = CallRecord.Status, CallRecord.Outcome


def make_call(template, status, outcome=""):
    serial = next(_serial)
    return CallRecord.objects.create(
        api=CallRecord.Api.TTS, mode=template.mode, tts_template=template, called_number="15900000000",
        out_id=f"L{serial:010d}", status=status, outcome=outcome, created_at=timezone.now() - timedelta(seconds=serial),
    )


class _LineageTable(HTMLParser):
    """The rows of the page's lineage table: each cell's text, each row's links and whether it is the current one."""

    def __init__(self):
        super().__init__()
        self.rows: list[dict] = []
        self._inside = self._cell = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and attrs.get("id") == "va-lineage":
            self._inside = True
        elif self._inside and tag == "tr":
            self.rows.append({"cells": [], "links": [], "current": attrs.get("aria-current") == "page"})
        elif self._inside and tag in ("td", "th") and self.rows:
            self.rows[-1]["cells"].append("")
            self._cell = True
        elif self._inside and tag == "a" and self.rows:
            self.rows[-1]["links"].append(attrs["href"])
        elif self._inside and tag == "span" and "va-state" in attrs.get("class", "") and self.rows:
            self.rows[-1]["state_class"] = attrs["class"]

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._cell = False
        elif tag == "table" and self._inside:
            self._inside = False

    def handle_data(self, data):
        if self._cell and self.rows:
            self.rows[-1]["cells"][-1] += data


def lineage_rows(client, template, language="en") -> list[dict]:
    client.cookies["django_language"] = language
    response = client.get(reverse("notifications:tts_template_detail", args=[template.pk]))
    assert response.status_code == 200
    table = _LineageTable()
    table.feed(response.content.decode())
    header, *rows = table.rows
    names = [" ".join(cell.split()) for cell in header["cells"]]
    return [{**row, "by": dict(zip(names, [" ".join(cell.split()) for cell in row["cells"]], strict=True))} for row in rows]


def test_copy_as_new_links_a_copy_of_a_copy_to_the_version_it_came_from(client, operator):
    original = make_template(status=ReviewStatus.APPROVED, tts_code="TTS_100001")
    client.force_login(operator)
    transition = "notifications:tts_template_transition"
    client.post(reverse(transition, args=[original.pk]), {"action": "copy"})
    first = TtsTemplate.objects.get(copied_from=original)
    client.post(reverse(transition, args=[first.pk]), {"action": "copy"})
    second = TtsTemplate.objects.get(copied_from=first)
    assert (first.copied_from, second.copied_from, original.copied_from) == (original, first, None)
    assert [row["by"]["Version"] for row in lineage_rows(client, second)] == [
        original.name, first.name, f"{second.name} This version"]


def test_the_lineage_is_the_same_family_from_every_member_and_leaves_other_templates_out(operator):
    root = make_template(name="取件通知")
    child = tts_template_copy(template=root, user=operator)
    grandchild = tts_template_copy(template=child, user=operator)
    sibling = tts_template_copy(template=root, user=operator)
    stranger = make_template(name="别的通知")
    tts_template_copy(template=stranger, user=operator)
    family = [root.pk, child.pk, grandchild.pk, sibling.pk]
    for member in (root, child, grandchild, sibling):
        lineage = tts_template_lineage(member)
        assert [version.template.pk for version in lineage] == family  # creation order
        assert [version.generation for version in lineage] == [0, 1, 2, 1]
        assert [version.parent and version.parent.pk for version in lineage] == [None, root.pk, child.pk, root.pk]


def test_a_template_with_no_family_shows_only_itself(client, manager):
    template = make_template(name="独立模板")
    make_template(name="别的模板")
    client.force_login(manager)
    (row,) = lineage_rows(client, template)
    assert row["current"] and row["by"]["Version"] == "独立模板 This version"
    assert row["by"]["Copied from"] == "—"


def test_each_version_shows_its_calls_and_answer_rate_of_the_calls_that_ended(client, operator):
    root = make_template(name="旧措辞", status=ReviewStatus.APPROVED, tts_code="TTS_1")
    copy = tts_template_copy(template=root, user=operator)
    for status, outcome in [
        (Status.COMPLETED, Outcome.LISTENED), (Status.COMPLETED, Outcome.HUNG_UP_EARLY),  # answered
        (Status.COMPLETED, Outcome.NO_ANSWER), (Status.FAILED, Outcome.FAILED),  # ended, not answered
        (Status.RINGING, ""), (Status.QUEUED, ""),  # still under way: counted as calls, not in the rate
    ]:
        make_call(root, status, outcome)
    client.force_login(operator)
    old, new = lineage_rows(client, copy)
    assert (old["by"]["Calls"], old["by"]["Answer rate"]) == ("6", "50.0%")
    assert (new["by"]["Calls"], new["by"]["Answer rate"]) == ("0", "—")
    call_log = f"{reverse('notifications:call_record_list')}?tts_template={root.pk}"
    assert old["links"] == [reverse("notifications:tts_template_detail", args=[root.pk]), call_log, call_log]
    listed = client.get(call_log).content.decode()
    assert all(out_id in listed for out_id in root.calls.values_list("out_id", flat=True))


def test_an_answered_call_still_in_progress_is_not_in_the_rate():
    template = make_template(status=ReviewStatus.APPROVED, tts_code="TTS_2")
    make_call(template, Status.COMPLETED, Outcome.LISTENED)
    make_call(template, Status.ANSWERED, Outcome.LISTENED)  # the callee is listening now
    make_call(template, Status.OUTCOME_UNKNOWN, Outcome.UNKNOWN)
    (version,) = tts_template_lineage(template)
    assert (version.calls, version.final_calls, version.answered, version.answer_rate) == (3, 2, 1, 0.5)


def test_states_are_in_words_and_colour_and_the_approval_time_is_shown(client, manager, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    decided = datetime(2026, 3, 6, 1, 30, tzinfo=UTC)
    root = make_template(name="已审核", status=ReviewStatus.APPROVED, tts_code="TTS_3", reviewed_at=decided)
    draft = make_template(name="草稿", copied_from=root, qualification=root.qualification)
    client.force_login(manager)
    approved, pending = lineage_rows(client, draft)
    assert (approved["by"]["Status"], approved["by"]["Approved at"], approved["by"]["TtsCode"]) == (
        "Approved", "2026-03-06 09:30:00", "TTS_3")
    assert "va-state-approved" in approved["state_class"]
    assert (pending["by"]["Status"], pending["by"]["Approved at"], pending["by"]["TtsCode"]) == ("Draft", "—", "—")
    assert "va-state-draft" in pending["state_class"]


def test_the_page_costs_the_same_queries_whatever_the_familys_size(client, operator):
    def page_queries(size: int) -> int:
        root = make_template(name=f"家族{size}", status=ReviewStatus.APPROVED)
        versions = [root]
        for _ in range(size - 1):
            versions.append(tts_template_copy(template=versions[-1], user=operator))
        for version in versions:
            make_call(version, Status.COMPLETED, Outcome.LISTENED)
        client.force_login(operator)
        with CaptureQueriesContext(connection) as queries:
            assert len(lineage_rows(client, versions[-1])) == size
        return len(queries)

    page_queries(1)  # the first page of a test also fills per-process caches
    assert page_queries(2) == page_queries(12)


@pytest.mark.parametrize("role", ["operator", "manager"])
def test_operators_and_managers_see_the_lineage_in_both_languages(client, role, request):
    root = make_template(name="双语模板")
    make_template(name="双语模板 (副本)", copied_from=root, qualification=root.qualification)
    client.force_login(request.getfixturevalue(role))
    assert len(lineage_rows(client, root)) == 2
    client.cookies["django_language"] = "en"
    page = client.get(reverse("notifications:tts_template_detail", args=[root.pk])).content.decode()
    assert "Versions" in page and "Answer rate" in page
    assert len(lineage_rows(client, root, language="zh-hans")) == 2


def test_a_template_with_copies_cannot_be_deleted_and_the_admin_shows_the_link(client, superuser, operator):
    root = make_template(name="母版")
    copy = tts_template_copy(template=root, user=operator)
    with pytest.raises(ProtectedError):
        root.delete()
    client.force_login(superuser)
    client.cookies["django_language"] = "en"
    change = client.get(reverse("admin:notifications_ttstemplate_change", args=[copy.pk])).content.decode()
    assert reverse("admin:notifications_ttstemplate_change", args=[root.pk]) in change
    assert client.get(reverse("admin:notifications_ttstemplate_changelist")).status_code == 200
    refused = client.post(reverse("admin:notifications_ttstemplate_delete", args=[root.pk]), {"post": "yes"})
    assert refused.status_code == 200 and TtsTemplate.objects.filter(pk=root.pk).exists()  # the admin names the copy instead
    copy.delete()  # the newest version has no copies: it can go
    root.delete()
    assert not TtsTemplate.objects.exists()
