"""Settle what receipts did not: detail queries, interrupted sends, lost jobs (DESIGN §3 step 4)."""
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils.translation import gettext as _

from notifications import jobs
from notifications.services.dialing import calls_follow_up


class Command(BaseCommand):
    help = "Query details of unfinished calls, settle interrupted sends and wake the dispatcher for calls left queued; prints a summary."

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=float, metavar="SECONDS", help="run again every SECONDS until interrupted")
        parser.add_argument("--schedule", action="store_true",
                            help="with Redis: make sure the self-rescheduling follow-up job is on the queue, then exit")

    def handle(self, *args, **options):
        if options["schedule"]:
            started = jobs.follow_up_schedule()
            message = _("The follow-up is scheduled.") if started else _("The follow-up was already scheduled (or there is no queue).")
            self.stdout.write(message)
            return
        while True:
            self.stdout.write(str(calls_follow_up()))
            if not options["loop"]:
                return
            close_old_connections()
            time.sleep(options["loop"])
