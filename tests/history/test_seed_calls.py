"""`seed_calls` fills the call log with realistic calls the pages and the figures agree on."""
from datetime import timedelta

from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from notifications.models import CallEvent, CallRecord, DailyCallStat, Mode
from notifications.rules.identifiers import normalize_mainland_number


def _seed(count, seed=7):
    call_command("seed_calls", count=count, seed=seed, stdout=open("/dev/null", "w"))


def test_seed_calls_creates_calls_with_receipts_and_figures(db):
    _seed(200)
    assert CallRecord.objects.count() == 200
    tts = CallRecord.objects.filter(api=CallRecord.Api.TTS).select_related("tts_template")
    assert tts.exists()
    for record in tts:
        assert set(record.params) == set(record.tts_template.variables)
    finals = CallRecord.objects.filter(status__in=CallRecord.FINAL_STATUSES).count()
    assert CallEvent.objects.filter(kind=CallEvent.Kind.VOICE_REPORT).count() == finals
    assert sum(row.count for row in DailyCallStat.objects.all()) == 200


def test_seeded_calls_look_like_a_campaign(db):
    _seed(3000)
    calls = list(CallRecord.objects.select_related("tts_template", "voice_file"))
    now = timezone.now()
    assert all(now - timedelta(days=30, minutes=1) < call.created_at <= now for call in calls)
    assert len({call.out_id for call in calls}) == 3000
    for call in calls:
        assert normalize_mainland_number(call.called_number)[0] == call.called_number
        resource = call.tts_template or call.voice_file
        assert call.mode == resource.mode
        assert (call.caller_number_id is not None) == (call.mode == Mode.DEDICATED)
        answered = call.outcome in (CallRecord.Outcome.LISTENED, CallRecord.Outcome.HUNG_UP_EARLY)
        assert (call.duration is not None) == answered
        if call.is_final:
            assert call.status_code and call.end_time and call.final_report_at > call.end_time
    share = {outcome: sum(call.outcome == outcome for call in calls) / len(calls) for outcome in CallRecord.Outcome.values}
    assert 0.45 < share[CallRecord.Outcome.LISTENED] < 0.60
    assert 0.08 < share[CallRecord.Outcome.NO_ANSWER] < 0.19
    assert 0.6 < sum(call.api == CallRecord.Api.TTS for call in calls) / len(calls) < 0.9


def test_a_large_load_leaves_every_index_and_foreign_key_in_place(db):
    def schema():
        with connection.cursor() as cursor:
            return {table: connection.introspection.get_constraints(cursor, table)
                    for table in ("notifications_callrecord", "notifications_callevent")}

    before = schema()
    _seed(500)  # more calls than the table held: the PostgreSQL path rebuilds its indexes after loading
    assert schema() == before
    _seed(100, seed=8)  # fewer: loaded with the indexes in place
    assert schema() == before and CallRecord.objects.count() == 600
