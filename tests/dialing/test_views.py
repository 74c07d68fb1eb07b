"""Test-dial pages and the do-not-call list, per role; forged requests are refused on the server."""
import pytest
from django.urls import reverse

from notifications.models import BlockedNumber, CallRecord, ReviewStatus

from .conftest import make_template, queued_call

pytestmark = pytest.mark.django_db


def dial_data(template, **fields) -> dict:
    return {"template": template.pk, "called_number": "13900001230", "play_times": 3, "volume": 100, "speed": "",
            "param_name": "张三", "param_order": "A1001"} | fields


def test_operator_sees_one_field_per_variable_and_the_preview(client, operator, notice):
    client.force_login(operator)
    response = client.get(reverse("notifications:dial_tts"), {"template": notice.pk})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="param_name"' in page and 'name="param_order"' in page
    assert 'name="caller_number"' not in page  # public mode
    assert "尊敬的${name}，您的订单${order}已发货。" in page
    assert 'name="play_times"' in page and 'value="3"' in page


def test_only_approved_templates_are_offered(client, operator, notice):
    draft = make_template(status=ReviewStatus.DRAFT)
    client.force_login(operator)
    page = client.get(reverse("notifications:dial_tts")).content.decode()
    assert f'value="{notice.pk}"' in page
    assert f'value="{draft.pk}"' not in page
    response = client.post(reverse("notifications:dial_tts"), dial_data(draft))
    assert response.status_code == 200
    assert CallRecord.objects.count() == 0


def test_dedicated_template_offers_only_its_active_numbers(client, operator, dedicated):
    template, number = dedicated
    client.force_login(operator)
    page = client.get(reverse("notifications:dial_tts"), {"template": template.pk}).content.decode()
    assert 'name="caller_number"' in page
    assert number.number in page


def test_operator_dials_and_lands_on_the_call_page(client, operator, on_simulator, notice, inline_jobs,
                                                   django_capture_on_commit_callbacks):
    client.force_login(operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("notifications:dial_tts"), dial_data(notice))
    record = CallRecord.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("notifications:call_record_detail", args=[record.pk])
    assert record.requested_by == operator
    assert record.status == CallRecord.Status.ACCEPTED
    [call] = on_simulator.calls
    assert call["OutId"] == record.out_id


def test_refusals_are_shown_next_to_their_fields(client, operator, notice):
    BlockedNumber.objects.create(number="13900001230", reason="投诉")
    client.force_login(operator)
    response = client.post(reverse("notifications:dial_tts"), dial_data(notice, param_name="http://x.cn", volume=100))
    form = response.context["form"]
    assert form.has_error("called_number", "blocked")
    assert form.has_error("param_name", "link")
    assert CallRecord.objects.count() == 0


def test_flow_control_is_a_callee_field_error(client, operator, notice):
    queued_call(notice)
    client.force_login(operator)
    response = client.post(reverse("notifications:dial_tts"), dial_data(notice))
    assert response.status_code == 200
    assert response.context["form"].has_error("called_number", "flow_control")


def test_voice_form(client, operator, voice_file, on_simulator, inline_jobs, django_capture_on_commit_callbacks):
    client.force_login(operator)
    assert client.get(reverse("notifications:dial_voice"), {"voice_file": voice_file.pk}).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("notifications:dial_voice"),
                               {"voice_file": voice_file.pk, "called_number": "13900001230", "play_times": 1, "volume": 50})
    assert response.status_code == 302
    assert on_simulator.calls[0]["VoiceCode"] == voice_file.voice_code


def test_manager_cannot_dial_even_with_a_forged_post(client, manager, notice):
    client.force_login(manager)
    assert client.get(reverse("notifications:dial_tts")).status_code == 403
    assert client.post(reverse("notifications:dial_tts"), dial_data(notice)).status_code == 403
    assert client.post(reverse("notifications:dial_voice"), {}).status_code == 403
    assert CallRecord.objects.count() == 0


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(reverse("notifications:dial_tts"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_operator_sees_the_do_not_call_list_but_cannot_change_it(client, operator):
    blocked = BlockedNumber.objects.create(number="13900001230", reason="投诉")
    client.force_login(operator)
    page = client.get(reverse("notifications:blocked_number_list")).content.decode()
    assert "13900001230" in page
    assert "Unblock" not in page and "解除" not in page
    assert client.post(reverse("notifications:blocked_number_create"), {"number": "13900001231", "reason": "x"}).status_code == 403
    assert client.post(reverse("notifications:blocked_number_delete", args=[blocked.pk])).status_code == 403
    assert BlockedNumber.objects.count() == 1


def test_manager_blocks_the_callee_of_a_call_without_seeing_the_number(client, manager, notice):
    call = queued_call(notice)
    client.force_login(manager)
    url = reverse("notifications:blocked_number_create") + f"?call={call.pk}"
    page = client.get(url).content.decode()
    assert "139****1230" in page and "13900001230" not in page
    response = client.post(url, {"number": "13800000000", "reason": "客户要求不再来电"}, follow=True)  # a forged number is ignored
    assert response.redirect_chain[-1][0] == reverse("notifications:call_record_detail", args=[call.pk])
    assert "139****1230" in response.content.decode() and "13900001230" not in response.content.decode()
    blocked = BlockedNumber.objects.get()
    assert (blocked.number, blocked.created_by) == ("13900001230", manager)
    again = client.post(url, {"reason": "again"})
    assert again.status_code == 200 and again.context["form"].non_field_errors() and BlockedNumber.objects.count() == 1
    listing = client.get(reverse("notifications:blocked_number_list")).content.decode()
    assert "139****1230" in listing and "13900001230" not in listing
    response = client.post(reverse("notifications:blocked_number_delete", args=[blocked.pk]))
    assert response.status_code == 302
    assert not BlockedNumber.objects.exists()


def test_a_manager_who_sees_full_numbers_blocks_a_typed_number(client, manager, notice, settings):
    settings.PHONE_MASKING = False
    call = queued_call(notice)
    client.force_login(manager)
    url = reverse("notifications:blocked_number_create") + f"?number={call.called_number}&call={call.pk}"
    assert 'value="13900001230"' in client.get(url).content.decode()
    response = client.post(url, {"number": "139-0000-1230", "reason": "客户要求不再来电"})
    assert response["Location"] == reverse("notifications:call_record_detail", args=[call.pk])
    assert BlockedNumber.objects.get().number == "13900001230"
    duplicate = client.post(reverse("notifications:blocked_number_create"), {"number": "13900001230", "reason": "again"})
    assert duplicate.status_code == 200 and BlockedNumber.objects.count() == 1


def test_blocking_rejects_a_number_that_is_not_a_phone_number(client, manager):
    client.force_login(manager)
    response = client.post(reverse("notifications:blocked_number_create"), {"number": "12345", "reason": "x"})
    assert response.context["form"].errors["number"]
    assert not BlockedNumber.objects.exists()


def test_approved_register_entries_link_to_their_test_dial(client, operator, manager, notice, voice_file):
    client.force_login(operator)
    page = client.get(reverse("notifications:tts_template_detail", args=[notice.pk])).content.decode()
    assert f'{reverse("notifications:dial_tts")}?template={notice.pk}' in page
    page = client.get(reverse("notifications:voice_file_detail", args=[voice_file.pk])).content.decode()
    assert f'{reverse("notifications:dial_voice")}?voice_file={voice_file.pk}' in page
    client.force_login(manager)
    page = client.get(reverse("notifications:tts_template_detail", args=[notice.pk])).content.decode()
    assert reverse("notifications:dial_tts") not in page


def test_forged_caller_number_of_another_qualification_is_refused(client, operator, dedicated):
    from notifications.models import CallerNumber

    from .conftest import make_qualification

    template, _number = dedicated
    stranger = CallerNumber.objects.create(number="057166667777", qualification=make_qualification(), status=CallerNumber.Status.ACTIVE)
    client.force_login(operator)
    response = client.post(reverse("notifications:dial_tts"), dial_data(template, caller_number=stranger.pk))
    assert response.status_code == 200
    assert response.context["form"].errors["caller_number"]
    assert not CallRecord.objects.exists()


def test_call_page_offers_blocking_only_to_those_who_may_block(client, manager, operator, notice):
    call = queued_call(notice)
    link = reverse("notifications:blocked_number_create") + f"?call={call.pk}"
    client.force_login(manager)
    assert link in client.get(reverse("notifications:call_record_detail", args=[call.pk])).content.decode()
    client.force_login(operator)
    assert link not in client.get(reverse("notifications:call_record_detail", args=[call.pk])).content.decode()
