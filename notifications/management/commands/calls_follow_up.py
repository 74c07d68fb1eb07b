"""Settle what receipts did not: detail queries, interrupted sends, calls closed as "outcome unknown" (DESIGN §3 step 4).

The scheduler runs this every CALL_FOLLOW_UP_INTERVAL_SECONDS; the command runs it now, as the same periodic task
(recorded on the health page, and skipped while another run of it is going on).
"""
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils.translation import gettext as _

from notifications import jobs


class Command(BaseCommand):
    help = "Query details of unfinished calls and settle interrupted sends now; prints a summary."

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=float, metavar="SECONDS", help="run again every SECONDS until interrupted")

    def handle(self, *args, **options):
        while True:
            summary = jobs.calls_follow_up_job()
            self.stdout.write(_("Skipped: another run of the follow-up is going on.") if summary == "skipped" else summary)
            if not options["loop"]:
                return
            close_old_connections()
            time.sleep(options["loop"])
