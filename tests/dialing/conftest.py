"""Register entries to dial (approved, in the simulator's account too) and helpers for the dialing tests."""
import itertools

import pytest

from notifications.models import CallerNumber, CallRecord, Mode, Purpose, Qualification, ReviewStatus, TtsTemplate, VoiceFile
from notifications.rules.identifiers import credit_code_check_char

_serial = itertools.count(1)
NOTICE = "尊敬的${name}，您的订单${order}已发货。"
CODE = "您的验证码是${code}，五分钟内有效。"


def make_qualification(status: str = ReviewStatus.APPROVED) -> Qualification:
    first17 = f"91330100MA{next(_serial):06d}X"[:17]
    return Qualification.objects.create(
        company_name="杭州示例科技有限公司", credit_code=first17 + credit_code_check_char(first17), legal_representative="王五",
        contact_name="李四", contact_phone="13800000000", status=status,
    )


def make_template(*, content: str = NOTICE, kind: str = Purpose.NOTIFICATION, mode: str = Mode.PUBLIC,
                  status: str = ReviewStatus.APPROVED, qualification: Qualification | None = None, code: str = "") -> TtsTemplate:
    from notifications.rules.templates import extract_variables

    return TtsTemplate.objects.create(
        name="通知", content=content, kind=kind, mode=mode, qualification=qualification or make_qualification(),
        variables=extract_variables(content), status=status,
        tts_code=code or (f"TTS_{next(_serial):06d}" if status == ReviewStatus.APPROVED else ""),
    )


@pytest.fixture
def notice(db) -> TtsTemplate:
    return make_template()


@pytest.fixture
def code_template(db) -> TtsTemplate:
    return make_template(content=CODE, kind=Purpose.VERIFICATION)


@pytest.fixture
def dedicated(db) -> tuple[TtsTemplate, CallerNumber]:
    qualification = make_qualification()
    template = make_template(mode=Mode.DEDICATED, qualification=qualification)
    number = CallerNumber.objects.create(number="057188886666", qualification=qualification, status=CallerNumber.Status.ACTIVE)
    return template, number


@pytest.fixture
def voice_file(db) -> VoiceFile:
    return VoiceFile.objects.create(
        name="提示音", audio="voice/test.wav", audio_format="wav", size_bytes=8044, sha256="0" * 64, mode=Mode.PUBLIC,
        qualification=make_qualification(), voice_code=f"{next(_serial):04d}-4e78-8d2a-afbb06cf6216.wav", status=ReviewStatus.APPROVED,
    )


@pytest.fixture(autouse=True)
def english():
    """Messages stored by jobs and commands are written in the active language; these tests read them in English."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def inline_jobs(settings):
    """Jobs run in this process even in the services run, so a test sees the call sent when its request returns."""
    settings.REDIS_URL = ""


@pytest.fixture
def on_simulator(vms_simulator, notice, code_template, dedicated, voice_file):
    """The simulator's account knows every approved entry of these tests, as the published account would."""
    template, number = dedicated
    for tts in (notice, code_template, template):
        vms_simulator.account.add_template(tts.tts_code, tts.content, mode=tts.mode, kind=tts.kind)
    vms_simulator.account.add_voice_file(voice_file.voice_code, mode=voice_file.mode)
    vms_simulator.account.add_number(number.number)
    return vms_simulator


def queued_call(template: TtsTemplate, called_number: str = "13900001230", **fields) -> CallRecord:
    """A call recorded as the service records it, without going through the queue."""
    values = {
        "api": CallRecord.Api.TTS, "mode": template.mode, "tts_template": template, "called_number": called_number,
        "params": {"name": "张三", "order": "A1001"}, "out_id": f"t{next(_serial):08d}",
    }
    return CallRecord.objects.create(**(values | fields))
