"""Lifecycle transitions: who may do them, from which state, and that a refused one changes nothing."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from notifications.models import CallerNumber, Qualification, ReviewStatus
from notifications.services import provider_sync
from notifications.services.review import caller_number_set_status, resource_record_decision, resource_submit

from .helpers import make_qualification, make_template, make_voice_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider_calls(monkeypatch):
    calls = []
    monkeypatch.setattr(provider_sync, "request_review", lambda resource: calls.append(("review", resource.pk)))
    monkeypatch.setattr(provider_sync, "publish_approved", lambda resource: calls.append(("publish", resource.pk)))
    return calls


def test_operator_submits_a_template_and_the_provider_is_asked_after_commit(operator, provider_calls, django_capture_on_commit_callbacks):
    template = make_template()
    with django_capture_on_commit_callbacks(execute=True):
        resource_submit(resource=template, user=operator)
    template.refresh_from_db()
    assert template.status == ReviewStatus.SUBMITTED
    assert template.submitted_by == operator and template.submitted_at is not None
    assert provider_calls == [("review", template.pk)]


def test_a_qualification_without_its_licence_cannot_be_submitted(operator):
    qualification = make_qualification(status=ReviewStatus.DRAFT)
    with pytest.raises(ValidationError):
        resource_submit(resource=qualification, user=operator)
    assert Qualification.objects.get(pk=qualification.pk).status == ReviewStatus.DRAFT


def test_a_qualification_submit_does_not_ask_the_provider(operator, provider_calls, django_capture_on_commit_callbacks):
    qualification = make_qualification(status=ReviewStatus.DRAFT, licence="licences/scan.png")
    with django_capture_on_commit_callbacks(execute=True):
        resource_submit(resource=qualification, user=operator)
    assert Qualification.objects.get(pk=qualification.pk).status == ReviewStatus.SUBMITTED
    assert provider_calls == []


def test_manager_cannot_submit(manager):
    template = make_template()
    with pytest.raises(PermissionDenied):
        resource_submit(resource=template, user=manager)
    template.refresh_from_db()
    assert template.status == ReviewStatus.DRAFT


def test_an_approved_template_cannot_be_submitted_again(operator):
    template = make_template(status=ReviewStatus.APPROVED, tts_code="TTS_1")
    with pytest.raises(ValidationError):
        resource_submit(resource=template, user=operator)


def test_a_stale_instance_does_not_bypass_the_state_check(operator):
    template = make_template()
    stale = type(template).objects.get(pk=template.pk)
    resource_submit(resource=template, user=operator)
    with pytest.raises(ValidationError):
        resource_submit(resource=stale, user=operator)


def test_manager_approves_with_a_code_and_it_is_published(manager, provider_calls, django_capture_on_commit_callbacks):
    template = make_template(status=ReviewStatus.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):
        resource_record_decision(resource=template, approved=True, code=" TTS_100001 ", decided_by=manager)
    template.refresh_from_db()
    assert (template.status, template.tts_code, template.reviewed_by) == (ReviewStatus.APPROVED, "TTS_100001", manager)
    assert provider_calls == [("publish", template.pk)]


def test_approval_without_a_code_is_refused(manager):
    voice_file = make_voice_file(status=ReviewStatus.SUBMITTED)
    with pytest.raises(ValidationError) as excinfo:
        resource_record_decision(resource=voice_file, approved=True, decided_by=manager)
    assert "code" in excinfo.value.error_dict
    voice_file.refresh_from_db()
    assert voice_file.status == ReviewStatus.SUBMITTED


def test_a_code_already_used_by_another_template_is_refused(manager):
    make_template(status=ReviewStatus.APPROVED, tts_code="TTS_100001")
    template = make_template(status=ReviewStatus.SUBMITTED)
    with pytest.raises(ValidationError) as excinfo:
        resource_record_decision(resource=template, approved=True, code="TTS_100001", decided_by=manager)
    assert "code" in excinfo.value.error_dict


def test_rejection_needs_a_reason_and_records_it(manager):
    qualification = make_qualification(status=ReviewStatus.SUBMITTED)
    with pytest.raises(ValidationError):
        resource_record_decision(resource=qualification, approved=False, decided_by=manager)
    resource_record_decision(resource=qualification, approved=False, reason="执照模糊", decided_by=manager)
    qualification.refresh_from_db()
    assert (qualification.status, qualification.reject_reason) == (ReviewStatus.REJECTED, "执照模糊")


def test_operator_cannot_record_a_decision(operator):
    template = make_template(status=ReviewStatus.SUBMITTED)
    with pytest.raises(PermissionDenied):
        resource_record_decision(resource=template, approved=True, code="TTS_9", decided_by=operator)
    template.refresh_from_db()
    assert template.status == ReviewStatus.SUBMITTED


def test_the_simulator_decides_without_a_user_but_not_out_of_state():
    template = make_template(status=ReviewStatus.SUBMITTED)
    resource_record_decision(resource=template, approved=True, code="TTS_7")
    template.refresh_from_db()
    assert template.status == ReviewStatus.APPROVED and template.reviewed_by is None
    with pytest.raises(ValidationError):
        resource_record_decision(resource=template, approved=False, reason="again")


def test_a_rejected_template_can_be_corrected_and_resubmitted(operator):
    template = make_template(status=ReviewStatus.REJECTED, reject_reason="bad")
    resource_submit(resource=template, user=operator)
    template.refresh_from_db()
    assert template.status == ReviewStatus.SUBMITTED and template.reject_reason == ""


def test_a_number_becomes_active_only_under_an_approved_qualification(manager):
    number = CallerNumber.objects.create(number="057188880001", qualification=make_qualification(status=ReviewStatus.SUBMITTED))
    with pytest.raises(ValidationError):
        caller_number_set_status(number=number, status=CallerNumber.Status.ACTIVE, user=manager)
    number.qualification.status = ReviewStatus.APPROVED
    number.qualification.save()
    caller_number_set_status(number=number, status=CallerNumber.Status.ACTIVE, user=manager)
    assert CallerNumber.objects.get(pk=number.pk).status == CallerNumber.Status.ACTIVE


def test_a_released_number_stays_released(manager):
    number = CallerNumber.objects.create(number="057188880001", qualification=make_qualification(), status=CallerNumber.Status.RELEASED)
    with pytest.raises(ValidationError):
        caller_number_set_status(number=number, status=CallerNumber.Status.ACTIVE, user=manager)


def test_operator_cannot_change_a_number_state(operator):
    number = CallerNumber.objects.create(number="057188880001", qualification=make_qualification())
    with pytest.raises(PermissionDenied):
        caller_number_set_status(number=number, status=CallerNumber.Status.ACTIVE, user=operator)
    assert CallerNumber.objects.get(pk=number.pk).status == CallerNumber.Status.PENDING
