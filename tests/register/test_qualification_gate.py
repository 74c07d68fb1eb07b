"""Content under a qualification the provider has not approved is refused when submitted (and when its approval is
recorded), not first when dialled; the refusal names the qualification, its state and what to do, and every place a
qualification is chosen shows its state."""
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from notifications.models import ReviewStatus, TtsTemplate, VoiceFile
from notifications.services import provider_sync
from notifications.services.review import resource_record_decision, resource_submit

from .helpers import make_qualification, make_template, make_voice_file

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def review_requests(monkeypatch):
    asked = []
    monkeypatch.setattr(provider_sync, "request_review", lambda resource: asked.append(resource.pk))
    return asked


@pytest.mark.parametrize(("state", "advice"), [
    (ReviewStatus.DRAFT, "Submit the qualification for review first"),
    (ReviewStatus.SUBMITTED, "Wait for the qualification's review"),
    (ReviewStatus.REJECTED, "The qualification was rejected (reason: 营业执照模糊)"),
])
@pytest.mark.parametrize("make", [make_template, make_voice_file], ids=["template", "voice file"])
def test_content_under_an_unapproved_qualification_cannot_be_submitted(
        operator, review_requests, django_capture_on_commit_callbacks, settings, state, advice, make):
    qualification = make_qualification(status=state, company_name="杭州驳回科技有限公司", reject_reason="营业执照模糊")
    item = make(qualification=qualification)
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True), \
            pytest.raises(ValidationError) as refused:
        resource_submit(resource=item, user=operator)
    with translation.override("en"):
        state_word = str(ReviewStatus(state).label)
    message = refused.value.messages[0]
    assert "“杭州驳回科技有限公司”" in message and f"is “{state_word}”" in message and advice in message
    assert type(item).objects.get(pk=item.pk).status == ReviewStatus.DRAFT
    assert review_requests == []  # the provider is not asked to review it either


def test_the_check_reads_the_qualification_as_stored_not_a_stale_instance(operator, review_requests):
    qualification = make_qualification(status=ReviewStatus.APPROVED)
    template = make_template(qualification=qualification)
    type(qualification).objects.filter(pk=qualification.pk).update(status=ReviewStatus.REJECTED)
    with pytest.raises(ValidationError):
        resource_submit(resource=template, user=operator)  # template.qualification still says "approved"


def test_once_the_qualification_is_approved_the_same_template_is_submitted(operator, review_requests):
    qualification = make_qualification(status=ReviewStatus.REJECTED)
    template = make_template(qualification=qualification)
    with pytest.raises(ValidationError):
        resource_submit(resource=template, user=operator)
    type(qualification).objects.filter(pk=qualification.pk).update(status=ReviewStatus.APPROVED)
    resource_submit(resource=template, user=operator)
    assert TtsTemplate.objects.get(pk=template.pk).status == ReviewStatus.SUBMITTED


@pytest.mark.parametrize("make", [make_template, make_voice_file], ids=["template", "voice file"])
def test_an_approval_is_not_recorded_under_an_unapproved_qualification(manager, make):
    # Submitted earlier (before the gate, or in the admin): the approval waits for the qualification's.
    item = make(status=ReviewStatus.SUBMITTED, qualification=make_qualification(status=ReviewStatus.SUBMITTED))
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        resource_record_decision(resource=item, approved=True, code="TTS_424242", decided_by=manager)
    assert "Record the qualification's approval first" in refused.value.messages[0]
    item.refresh_from_db()
    assert item.status == ReviewStatus.SUBMITTED
    assert (item.tts_code if isinstance(item, TtsTemplate) else item.voice_code) == ""
    # A rejection needs no approved qualification: the provider may refuse anything.
    resource_record_decision(resource=item, approved=False, reason="资质未通过", decided_by=manager)
    assert type(item).objects.get(pk=item.pk).status == ReviewStatus.REJECTED


@pytest.mark.parametrize(("language", "state_word"), [("en", "Rejected"), ("zh-hans", "未通过")])
def test_the_operator_sees_why_on_the_page_before_and_after_trying(client, operator, review_requests, language, state_word):
    template = make_template(qualification=make_qualification(status=ReviewStatus.REJECTED, company_name="杭州驳回科技有限公司"))
    client.force_login(operator)
    client.cookies["django_language"] = language
    detail = client.get(reverse("notifications:tts_template_detail", args=[template.pk])).content.decode()
    # Before trying: the warning, and the qualification's state beside it in words and colour.
    assert 'id="va-qualification-problem"' in detail and "杭州驳回科技有限公司" in detail
    assert re.search(r'<span class="va-state va-state-rejected">' + state_word + "</span>", detail)
    response = client.post(reverse("notifications:tts_template_transition", args=[template.pk]), {"action": "submit"},
                           follow=True)
    page = response.content.decode()
    assert response.status_code == 200 and 'alert-danger' in page and page.count("杭州驳回科技有限公司") >= 3
    assert TtsTemplate.objects.get(pk=template.pk).status == ReviewStatus.DRAFT


def test_no_warning_under_an_approved_qualification(client, operator):
    template = make_template(qualification=make_qualification(status=ReviewStatus.APPROVED))
    client.force_login(operator)
    detail = client.get(reverse("notifications:tts_template_detail", args=[template.pk])).content.decode()
    assert "va-qualification-problem" not in detail and '<span class="va-state va-state-approved">' in detail


def test_the_manager_recording_an_approval_is_told_why_it_is_refused(client, manager):
    voice_file = make_voice_file(status=ReviewStatus.SUBMITTED, qualification=make_qualification(status=ReviewStatus.DRAFT))
    client.force_login(manager)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("notifications:voice_file_transition", args=[voice_file.pk]),
                           {"action": "approve", "code": "abc.wav"}, follow=True)
    assert "The approval cannot be recorded: its qualification" in response.content.decode()
    assert VoiceFile.objects.get(pk=voice_file.pk).status == ReviewStatus.SUBMITTED


@pytest.mark.parametrize("prefix", ["tts_template", "voice_file", "caller_number"])
def test_every_qualification_select_names_each_state(client, operator, prefix):
    make_qualification(status=ReviewStatus.REJECTED, company_name="杭州驳回科技有限公司")
    make_qualification(status=ReviewStatus.APPROVED, company_name="杭州通过科技有限公司")
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    page = client.get(reverse(f"notifications:{prefix}_create")).content.decode()
    options = re.findall(r"<option ([^>]*)>([^<]*)</option>", page)
    labels = {label: attrs for attrs, label in options}
    assert 'data-state="rejected"' in labels["杭州驳回科技有限公司 — Rejected"]
    assert 'data-state="approved"' in labels["杭州通过科技有限公司 — Approved"]
    assert 'data-va-qualification-state="id_qualification"' in page  # the chosen one's badge, kept current by script


def test_the_edit_form_shows_the_chosen_qualifications_state_and_the_warning(client, operator):
    template = make_template(qualification=make_qualification(status=ReviewStatus.SUBMITTED, company_name="杭州审核科技有限公司"))
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("notifications:tts_template_update", args=[template.pk])).content.decode()
    box = page[page.index('data-va-qualification-state="id_qualification"'):]
    box = box[: box.index("</div>")]
    assert '<span class="va-state va-state-submitted" data-va-state-badge>Submitted for review</span>' in box
    assert '<span class="text-danger" data-va-state-warning>' in box  # shown, not d-none


def test_list_filters_name_each_qualifications_state(client, operator):
    make_qualification(status=ReviewStatus.REJECTED, company_name="杭州驳回科技有限公司")
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("notifications:tts_template_list")).content.decode()
    assert "杭州驳回科技有限公司 — Rejected" in page
