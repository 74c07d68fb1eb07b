"""A call dialled from the form, sent to the simulator over HTTP, with its receipts and a detail query recorded: every
place the callee's number can be written."""
import pytest
from django.urls import reverse

from notifications.models import CallRecord, Mode, Qualification, ReviewStatus, TtsTemplate
from notifications.rules.identifiers import credit_code_check_char
from notifications.rules.templates import extract_variables
from notifications.services.receipts import receipts_ingest
from tests.browser.conftest import browser, login_as  # noqa: F401  (fixtures shared with the browser tests)

CALLEE = "13900001230"  # the simulator's "listened to the end" number
MASKED = "139****1230"
CONTENT = "您的快递${code}已到，请回电${phone}。"


@pytest.fixture
def template(db) -> TtsTemplate:
    first17 = "91330100MA000777X"
    qualification = Qualification.objects.create(
        company_name="杭州示例科技有限公司", credit_code=first17 + credit_code_check_char(first17), legal_representative="王五",
        contact_name="李四", contact_phone="13800000000", status=ReviewStatus.APPROVED,
    )
    return TtsTemplate.objects.create(name="取件通知", content=CONTENT, mode=Mode.PUBLIC, qualification=qualification,
                                      variables=extract_variables(CONTENT), status=ReviewStatus.APPROVED, tts_code="TTS_700001")


@pytest.fixture
def dialled(client, operator, manager, template, vms_simulator, settings, django_capture_on_commit_callbacks) -> CallRecord:
    """The operator dials; the call goes to the simulator; its kept receipts are applied; a manager asks for the detail."""
    settings.REDIS_URL = ""  # the job sending the call runs in this process, on commit
    vms_simulator.account.add_template(template.tts_code, template.content)
    client.force_login(operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{reverse('notifications:dial_tts')}?template={template.pk}", {
            "template": template.pk, "called_number": CALLEE, "param_code": "A12", "param_phone": "13800138000",
            "play_times": 1, "volume": 100, "speed": 0,
        })
    assert response.status_code == 302, response.content.decode()[:2000]
    record = CallRecord.objects.get()
    vms_simulator.drain()
    for push in vms_simulator.pushed:
        receipts_ingest(message_type=push["message_type"], records=push["records"])
    client.force_login(manager)
    client.post(reverse("notifications:call_record_requery", args=[record.pk]))
    client.logout()
    record.refresh_from_db()
    assert record.is_final and record.called_number == CALLEE
    assert {"api_answer", "voice_report", "detail_query"} <= set(record.events.values_list("kind", flat=True))
    return record
