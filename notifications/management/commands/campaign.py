"""Campaigns from the shell, through the same services as the pages: create, check, submit, approve, start, pause,
resume, cancel, show."""
import os
import time

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from notifications.management.lookups import approved_resource
from notifications.models import CallerNumber, Campaign, TtsTemplate, VoiceFile
from notifications.services import campaign_check as check
from notifications.services import campaign_flow as flow
from notifications.services import campaign_report as report
from notifications.services.campaign_create import campaign_create
from notifications.services.campaign_files import CampaignFileError
from notifications.services.campaign_send import campaign_send_run
from notifications.texts import in_language

FINAL = (Campaign.State.FINISHED, Campaign.State.CANCELLED)


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise CommandError(_("--map takes TARGET=HEADER (callee=手机号, name=姓名), not “%(text)s”.") % {"text": text})
    return name.strip(), value.strip()


def _refusal(error: Exception) -> str:
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        return "\n  ".join(f"{field}: {message}" if field != "__all__" else message
                           for field, messages in error.message_dict.items() for message in messages)
    if isinstance(error, ValidationError):
        return "\n  ".join(error.messages)
    return str(error)


class Command(BaseCommand):
    help = "Create, check, approve, start, pause, resume, cancel or show a campaign (the services of the pages)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="a draft campaign from a CSV or XLSX list; prints its id")
        create.add_argument("--name", required=True)
        what = create.add_mutually_exclusive_group(required=True)
        what.add_argument("--template", metavar="TTS_CODE", help="an approved TTS template's code")
        what.add_argument("--voice-file", metavar="VOICE_CODE", help="an approved voice file's code")
        create.add_argument("--file", required=True, metavar="PATH", help="the list, CSV or XLSX")
        create.add_argument("--caller", action="append", default=[], metavar="NUMBER",
                            help="a caller number (dedicated mode; repeat for several, used in turn)")
        create.add_argument("--play-times", type=int, default=1)
        create.add_argument("--volume", type=int, default=100)
        create.add_argument("--speed", type=int)
        create.add_argument("--user", required=True, metavar="USERNAME", help="the operator creating it")

        checking = sub.add_parser("check", help="check every row, with the guessed mapping or --map")
        checking.add_argument("campaign", type=int)
        checking.add_argument("--map", action="append", default=[], type=_pair, metavar="TARGET=HEADER",
                              help="callee=HEADER or VARIABLE=HEADER (repeat); the rest stays as guessed")

        for name, helptext in (("submit", "send for approval"), ("approve", "approve (a manager who did not create it)"),
                               ("pause", "pause sending"), ("resume", "resume sending"), ("cancel", "cancel")):
            action = sub.add_parser(name, help=helptext)
            action.add_argument("campaign", type=int)
            action.add_argument("--user", required=True, metavar="USERNAME")

        start = sub.add_parser("start", help="run the sender now for an approved campaign (its start time and quiet "
                                             "hours still apply)")
        start.add_argument("campaign", type=int)
        start.add_argument("--wait", action="store_true", help="keep sending until the campaign ends, printing progress")
        start.add_argument("--timeout", type=float, default=3600, help="with --wait: give up after this many seconds")

        show = sub.add_parser("show", help="state, counts and rate")
        show.add_argument("campaign", type=int)

    def handle(self, *args, **options):
        action = options["action"]
        try:
            getattr(self, f"_{action}")(options)
        except (ValidationError, PermissionDenied, CampaignFileError) as error:
            raise CommandError(_("Refused:") + "\n  " + _refusal(error)) from None

    # ----- helpers -----
    @staticmethod
    def _user(username: str):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("No user is named “%(name)s”.") % {"name": username})
        return user

    @staticmethod
    def _campaign(pk: int) -> Campaign:
        campaign = Campaign.objects.filter(pk=pk).first()
        if campaign is None:
            raise CommandError(_("No campaign has the id %(id)s.") % {"id": pk})
        return campaign

    # ----- actions -----
    def _create(self, options):
        user = self._user(options["user"])
        if not user.has_perm("notifications.add_campaign"):
            raise CommandError(_("%(name)s may not create campaigns.") % {"name": user.get_username()})
        resource = approved_resource(tts_code=options["template"], voice_code=options["voice_file"])
        callers = []
        for number in options["caller"]:
            caller = CallerNumber.objects.filter(number=number).first()
            if caller is None:
                raise CommandError(_("%(number)s is not one of the registered caller numbers.") % {"number": number})
            callers.append(caller)
        path = options["file"]
        if not os.path.isfile(path):
            raise CommandError(_("No file at %(path)s.") % {"path": path})
        with open(path, "rb") as handle:
            campaign = campaign_create(
                name=options["name"], user=user, uploaded_file=File(handle, name=os.path.basename(path)),
                tts_template=resource if isinstance(resource, TtsTemplate) else None,
                voice_file=resource if isinstance(resource, VoiceFile) else None,
                caller_numbers=callers, play_times=options["play_times"], volume=options["volume"], speed=options["speed"],
            )
        campaign.refresh_from_db()
        self.stdout.write(f"campaign {campaign.pk}")
        self.stdout.write(_("columns: %(headers)s") % {"headers": ", ".join(campaign.headers)})
        self.stdout.write(_("mapping guessed: %(mapping)s") % {"mapping": campaign.mapping})

    def _check(self, options):
        campaign = self._campaign(options["campaign"])
        mapping = {"callee": (campaign.mapping or {}).get("callee"), "params": dict((campaign.mapping or {}).get("params") or {})}
        for target, header in options["map"]:
            if target == "callee":
                mapping["callee"] = header or None
            else:
                mapping["params"][target] = header or None
        summary = check.campaign_check(campaign=campaign, mapping=mapping)
        self.stdout.write(_("rows %(total)s, valid %(valid)s, refused %(refused)s") % {
            "total": summary.get("total", 0), "valid": summary.get("valid", 0), "refused": summary.get("refused", 0)})
        for code, count in sorted((summary.get("by_reason") or {}).items()):
            self.stdout.write(f"  {code}: {count}")
        for error in summary.get("first_errors") or []:
            self.stdout.write(_("  row %(row)s, %(column)s: %(message)s") % {
                "row": error.get("row"), "column": error.get("column") or "—", "message": in_language(error.get("message"))})
        self._retries_warning(campaign, summary)

    def _transition(self, options, function):
        campaign = self._campaign(options["campaign"])
        function(campaign=campaign, user=self._user(options["user"]))
        campaign.refresh_from_db()
        self.stdout.write(_("campaign %(id)s: %(state)s") % {"id": campaign.pk, "state": campaign.get_state_display()})

    def _submit(self, options):
        self._transition(options, flow.campaign_submit)

    def _approve(self, options):
        self._transition(options, flow.campaign_approve)

    def _pause(self, options):
        self._transition(options, flow.campaign_pause)

    def _resume(self, options):
        self._transition(options, flow.campaign_resume)

    def _cancel(self, options):
        self._transition(options, flow.campaign_cancel)

    def _start(self, options):
        campaign = self._campaign(options["campaign"])
        if campaign.state not in (Campaign.State.SCHEDULED, Campaign.State.SENDING):
            raise CommandError(_("Campaign %(id)s is %(state)s: only an approved campaign can start.") % {
                "id": campaign.pk, "state": campaign.get_state_display()})
        deadline = time.monotonic() + options["timeout"]
        while True:
            # The sender's own loop (one tick a wall-clock second while anything is sending or being settled).
            campaign_send_run(seconds=max(1.0, min(60.0, deadline - time.monotonic())) if options["wait"] else 0)
            campaign.refresh_from_db()
            if not options["wait"] or campaign.state in FINAL:
                break
            if time.monotonic() > deadline:
                raise CommandError(_("Campaign %(id)s has not ended yet.") % {"id": campaign.pk})
            time.sleep(1)
        self._show(options)

    def _retries_warning(self, campaign, summary: dict) -> None:
        if short := check.retries_short(summary, campaign.max_retries):
            self.stdout.write(ngettext(
                "warning: %(count)s row may not get all its retries within the provider's %(allowed)s calls a day"
                " (first rows: %(rows)s)",
                "warning: %(count)s rows may not get all their retries within the provider's %(allowed)s calls a day"
                " (first rows: %(rows)s)", short["count"]) % {
                "count": short["count"], "allowed": short["allowed"], "rows": ", ".join(map(str, short["rows"]))})

    def _show(self, options):
        campaign = self._campaign(options["campaign"])
        self.stdout.write(f"campaign {campaign.pk}: {campaign.name}")
        self.stdout.write(_("state: %(state)s") % {"state": campaign.get_state_display()})
        summary = campaign.check_summary or {}
        if summary:
            self.stdout.write(_("rows %(total)s, valid %(valid)s, refused %(refused)s") % {
                "total": summary.get("total", 0), "valid": summary.get("valid", 0), "refused": summary.get("refused", 0)})
            self._retries_warning(campaign, summary)
        progress = report.campaign_progress(campaign)
        for key, value in progress.items():
            if isinstance(value, (int, float, str)) or value is None:
                self.stdout.write(f"{key}: {value}")
