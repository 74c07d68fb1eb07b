"""`seed_calls` fills the call log with realistic calls the pages and the figures agree on."""
from django.core.management import call_command

from notifications.models import CallEvent, CallRecord, DailyCallStat


def test_seed_calls_creates_calls_with_receipts_and_figures(db):
    call_command("seed_calls", count=200, seed=7, stdout=open("/dev/null", "w"))
    assert CallRecord.objects.count() == 200
    tts = CallRecord.objects.filter(api=CallRecord.Api.TTS).select_related("tts_template")
    assert tts.exists()
    for record in tts:
        assert set(record.params) == set(record.tts_template.variables)
    finals = CallRecord.objects.filter(status__in=CallRecord.FINAL_STATUSES).count()
    assert CallEvent.objects.filter(kind=CallEvent.Kind.VOICE_REPORT).count() == finals
    assert sum(row.count for row in DailyCallStat.objects.all()) == 200
