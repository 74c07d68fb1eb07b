"""A campaign's states: sent for approval, approved by a manager who did not create it, sent back, paused, resumed,
cancelled, and sent back for approval when its schedule changes; each refused change says why."""
from datetime import time, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from notifications.models import AuditEntry, Campaign, CampaignRow, ReviewStatus
from notifications.services.campaign_flow import (
    campaign_approve,
    campaign_cancel,
    campaign_pause,
    campaign_resume,
    campaign_send_back,
    campaign_submit,
    campaign_update_schedule,
)
from tests.campaigns.test_sending import make_sending_campaign, numbers

pytestmark = pytest.mark.django_db
State = Campaign.State
Action = AuditEntry.Action


@pytest.fixture(autouse=True)
def english():
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def second_manager(db):
    from notifications.roles import MANAGERS
    from tests.conftest import _user_in

    return _user_in(MANAGERS, "manager2")


def checked(user, count=2) -> Campaign:
    return make_sending_campaign(user, numbers(count), state=State.CHECKED)


def test_an_operator_sends_a_checked_campaign_for_approval(operator):
    campaign = checked(operator)
    campaign_submit(campaign, operator)
    assert Campaign.objects.get(pk=campaign.pk).state == State.AWAITING_APPROVAL
    assert AuditEntry.objects.filter(action=Action.CAMPAIGN_SUBMITTED, user=operator, target_id=str(campaign.pk)).exists()


def test_a_campaign_without_a_valid_row_cannot_be_sent_for_approval(operator):
    campaign = checked(operator, count=1)
    campaign.rows.update(state=CampaignRow.State.REFUSED)
    with pytest.raises(ValidationError, match="nobody to call"):
        campaign_submit(campaign, operator)


def test_a_draft_cannot_be_sent_for_approval(operator):
    campaign = make_sending_campaign(operator, numbers(1), state=State.DRAFT)
    with pytest.raises(ValidationError, match="Only a checked campaign.*Draft"):
        campaign_submit(campaign, operator)


def test_the_creator_cannot_approve_their_own_campaign(manager):
    campaign = checked(manager)
    campaign_submit(campaign, manager)
    with pytest.raises(PermissionDenied, match="another manager must approve"):
        campaign_approve(campaign, manager)
    assert Campaign.objects.get(pk=campaign.pk).state == State.AWAITING_APPROVAL


def test_an_operator_cannot_approve(operator):
    from notifications.roles import OPERATORS
    from tests.conftest import _user_in

    campaign = checked(operator)
    campaign_submit(campaign, operator)
    with pytest.raises(PermissionDenied, match="Only a manager"):
        campaign_approve(campaign, _user_in(OPERATORS, "operator2"))


def test_a_manager_who_did_not_create_it_approves_and_it_is_audited(operator, manager):
    campaign = checked(operator)
    campaign_submit(campaign, operator)
    campaign_approve(campaign, manager)
    campaign.refresh_from_db()
    assert campaign.state == State.SCHEDULED
    assert campaign.approved_by == manager and campaign.approved_at is not None
    assert AuditEntry.objects.filter(action=Action.CAMPAIGN_APPROVED, user=manager, target_id=str(campaign.pk)).exists()


def test_approval_is_refused_when_the_template_is_no_longer_approved(operator, manager):
    campaign = checked(operator)
    campaign_submit(campaign, operator)
    type(campaign.tts_template).objects.filter(pk=campaign.tts_template_id).update(status=ReviewStatus.REJECTED)
    with pytest.raises(ValidationError, match="not approved any more"):
        campaign_approve(campaign, manager)


def test_approving_twice_is_refused(operator, manager, second_manager):
    campaign = checked(operator)
    campaign_submit(campaign, operator)
    campaign_approve(campaign, manager)
    with pytest.raises(ValidationError, match="waiting for approval"):
        campaign_approve(campaign, second_manager)


def test_a_manager_sends_it_back_with_a_reason(operator, manager):
    campaign = checked(operator)
    campaign_submit(campaign, operator)
    campaign_send_back(campaign, manager, "Wrong list: use the March one.")
    assert Campaign.objects.get(pk=campaign.pk).state == State.CHECKED
    entry = AuditEntry.objects.get(action=Action.CAMPAIGN_REJECTED)
    assert entry.user == manager and entry.details["reason"] == "Wrong list: use the March one."


def test_an_operator_cannot_send_it_back(operator):
    campaign = checked(operator)
    campaign_submit(campaign, operator)
    with pytest.raises(PermissionDenied):
        campaign_send_back(campaign, operator, "no")


def test_changing_the_schedule_after_approval_needs_approval_again(operator, manager):
    campaign = checked(operator)
    campaign_submit(campaign, operator)
    campaign_approve(campaign, manager)
    campaign_update_schedule(campaign, operator, rate_cap=50, start_at=timezone.now() + timedelta(hours=1))
    campaign.refresh_from_db()
    assert (campaign.state, campaign.rate_cap, campaign.approved_by) == (State.CHECKED, 50, None)
    assert AuditEntry.objects.filter(action=Action.CAMPAIGN_REJECTED, details__reason="schedule changed").exists()


def test_changing_the_schedule_before_submitting_keeps_the_state(operator):
    campaign = checked(operator)
    campaign_update_schedule(campaign, operator, max_retries=2, retry_interval_minutes=15, quiet_start=time(20),
                             quiet_end=time(9))
    campaign.refresh_from_db()
    assert (campaign.state, campaign.max_retries, campaign.quiet_start) == (State.CHECKED, 2, time(20))


def test_schedule_values_out_of_range_are_refused_by_field(operator):
    campaign = checked(operator)
    with pytest.raises(ValidationError) as refused:
        campaign_update_schedule(campaign, operator, max_retries=4, rate_cap=0, quiet_start=time(21))
    assert set(refused.value.message_dict) == {"max_retries", "rate_cap", "quiet_end"}
    assert Campaign.objects.get(pk=campaign.pk).max_retries == 0


def test_the_schedule_of_a_sending_campaign_cannot_change(operator):
    campaign = make_sending_campaign(operator, numbers(1))
    with pytest.raises(ValidationError, match="pause it first"):
        campaign_update_schedule(campaign, operator, rate_cap=5)


def test_pause_resume_and_the_states_that_allow_them(operator):
    campaign = make_sending_campaign(operator, numbers(1), started_at=timezone.now())
    campaign_pause(campaign, operator)
    assert campaign.state == State.PAUSED
    with pytest.raises(ValidationError, match="Only a scheduled or sending campaign can be paused"):
        campaign_pause(campaign, operator)
    campaign_resume(campaign, operator)
    assert Campaign.objects.get(pk=campaign.pk).state == State.SENDING
    with pytest.raises(ValidationError, match="Only a paused campaign"):
        campaign_resume(campaign, operator)
    actions = list(AuditEntry.objects.filter(target_id=str(campaign.pk)).values_list("action", flat=True))
    assert sorted(actions) == sorted([Action.CAMPAIGN_PAUSED, Action.CAMPAIGN_RESUMED])


def test_a_campaign_paused_before_it_started_resumes_as_scheduled(operator):
    campaign = make_sending_campaign(operator, numbers(1), state=State.SCHEDULED)
    campaign_pause(campaign, operator)
    campaign_resume(campaign, operator)
    assert campaign.state == State.SCHEDULED


def test_cancel_marks_rows_not_sent_and_an_ended_campaign_cannot_be_cancelled(operator):
    campaign = make_sending_campaign(operator, numbers(3))
    campaign.rows.filter(row_number=2).update(state=CampaignRow.State.CALLING)
    campaign_cancel(campaign, operator)
    states = dict(campaign.rows.values_list("row_number", "state"))
    assert states == {2: CampaignRow.State.CALLING, 3: CampaignRow.State.NOT_SENT, 4: CampaignRow.State.NOT_SENT}
    assert campaign.state == State.CANCELLED and campaign.finished_at is not None
    assert AuditEntry.objects.get(action=Action.CAMPAIGN_CANCELLED).details["rows_not_sent"] == 2
    with pytest.raises(ValidationError, match="has ended"):
        campaign_cancel(campaign, operator)


def test_a_user_without_change_permission_can_do_nothing(db):
    from django.contrib.auth.models import User

    nobody = User.objects.create_user("nobody")
    campaign = make_sending_campaign(nobody, numbers(1), state=State.CHECKED)
    for action in (campaign_submit, campaign_pause, campaign_resume, campaign_cancel):
        with pytest.raises(PermissionDenied):
            action(campaign, nobody)
