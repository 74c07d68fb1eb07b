"""`manage.py dial` and `manage.py calls_follow_up` go through the same services as the pages."""
import io

import pytest
from django.core.management import CommandError, call_command

from notifications.models import CallRecord

# Committed for real, as on the command line: the job runs when the command's transaction commits.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_dial_prints_the_record_out_id_and_call_id(on_simulator, notice, operator, inline_jobs):
    output = run("dial", "--tts", notice.tts_code, "--to", "13900001230", "--param", "name=张三", "--param", "order=A1",
                 "--play-times", "1", "--as", "operator")
    record = CallRecord.objects.get()
    assert f"call record {record.pk}" in output
    assert f"OutId {record.out_id}" in output
    assert f"CallId {on_simulator.calls[0]['call_id']}" in output
    assert record.requested_by == operator
    assert on_simulator.calls[0]["TtsParam"] == '{"name":"张三","order":"A1"}'


def test_dial_dedicated_voice_file_with_show_number(on_simulator, voice_file, inline_jobs):
    output = run("dial", "--voice", voice_file.voice_code, "--to", "057188880000")
    assert "CallId" in output
    assert on_simulator.calls[0]["CalledNumber"] == "057188880000"


def test_dial_refusals_are_reported_and_nothing_is_called(on_simulator, notice, inline_jobs):
    with pytest.raises(CommandError) as caught:
        run("dial", "--tts", notice.tts_code, "--to", "12345", "--param", "name=张三")
    assert "called_number" in str(caught.value)
    assert "param_order" in str(caught.value)
    with pytest.raises(CommandError):
        run("dial", "--tts", "TTS_NOPE", "--to", "13900001230")
    assert on_simulator.calls == []
    assert not CallRecord.objects.exists()


def test_follow_up_prints_its_summary(db):
    assert "detail queries" in run("calls_follow_up")
