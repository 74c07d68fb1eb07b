"""Place one test call from the command line, through the same checks and queue as the test-dial form."""
import time

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from notifications.management.lookups import approved_resource
from notifications.models import CallerNumber, CallRecord, TtsTemplate, VoiceFile
from notifications.services.calls_create import call_record_create
from notifications.texts import in_language

WAIT_SECONDS = 15.0  # for the job to send the call and store its CallId


def _param(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise CommandError(_("--param takes NAME=VALUE, not “%(text)s”.") % {"text": text})
    return name, value


class Command(BaseCommand):
    help = "Place a test call: prints the call record id, its OutId and, once the provider answers, its CallId."

    def add_arguments(self, parser):
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--tts", metavar="TTS_CODE", help="an approved TTS template's code")
        what.add_argument("--voice", metavar="VOICE_CODE", help="an approved voice file's code")
        parser.add_argument("--to", required=True, metavar="NUMBER", help="the mainland number to call")
        parser.add_argument("--param", action="append", default=[], type=_param, metavar="NAME=VALUE",
                            help="a template variable's value (repeat for each variable)")
        parser.add_argument("--show-number", metavar="NUMBER", help="the caller number (dedicated mode only)")
        parser.add_argument("--play-times", type=int, default=3)
        parser.add_argument("--volume", type=int, default=100)
        parser.add_argument("--speed", type=int)
        parser.add_argument("--as", dest="username", metavar="USERNAME", help="place the call as this user (their rate limit applies)")

    def handle(self, *args, **options):
        resource = approved_resource(tts_code=options["tts"], voice_code=options["voice"])
        user = None
        if options["username"]:
            user = get_user_model().objects.filter(username=options["username"]).first()
            if user is None:
                raise CommandError(_("No user is named “%(name)s”.") % {"name": options["username"]})
        caller_number = None
        if options["show_number"]:
            caller_number = CallerNumber.objects.filter(number=options["show_number"]).first()
            if caller_number is None:
                raise CommandError(_("%(number)s is not one of the registered caller numbers.") % {"number": options["show_number"]})
        try:
            record = call_record_create(
                tts_template=resource if isinstance(resource, TtsTemplate) else None,
                voice_file=resource if isinstance(resource, VoiceFile) else None,
                called_number=options["to"], caller_number=caller_number, params=dict(options["param"]),
                play_times=options["play_times"], volume=options["volume"], speed=options["speed"], requested_by=user,
            )
        except ValidationError as error:
            lines = [f"{field}: {message}" if field != "__all__" else message
                     for field, messages in error.message_dict.items() for message in messages]
            raise CommandError(_("The call was not placed:") + "\n  " + "\n  ".join(lines)) from None
        self.stdout.write(f"call record {record.pk}")
        self.stdout.write(f"OutId {record.out_id}")
        record = self._wait_for_send(record)
        if record.call_id:
            self.stdout.write(f"CallId {record.call_id}")
        message = in_language(record.api_messages) or record.api_message
        self.stdout.write(f"status {record.status} ({record.get_status_display()}) {message}".rstrip())

    @staticmethod
    def _wait_for_send(record: CallRecord) -> CallRecord:
        """Poll briefly: with Redis a worker sends the call; in the embedded mode it was sent already."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            record.refresh_from_db()
            in_flight = record.status in (CallRecord.Status.QUEUED, CallRecord.Status.SENDING)
            if not in_flight or record.call_id or time.monotonic() > deadline:
                return record
            time.sleep(0.2)
