"""Ask the provider about the voice files in review now (QueryVoiceFileAuditInfo) and record its final answers.

The scheduler runs this every VOICE_FILE_AUDIT_SYNC_INTERVAL_SECONDS; the command runs it now, as the same periodic
task (recorded on the health page, and skipped while another run of it is going on).
"""
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from notifications import jobs


class Command(BaseCommand):
    help = "Sync the review state of voice files in review with the provider now; prints a summary."

    def handle(self, *args, **options):
        summary = jobs.voice_file_audit_sync_job()
        self.stdout.write(_("Skipped: another run of the voice file review sync is going on.") if summary == "skipped" else summary)
