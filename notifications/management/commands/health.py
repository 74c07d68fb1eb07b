"""Print the system health report; the exit status is for monitoring: 0 ok, 1 warning, 2 critical."""
import json
import sys

from django.core.management.base import BaseCommand

from notifications.context_processors import scheduler_running
from notifications.services.health import CRITICAL, SEVERITY, WARNING, health_report

EXIT_STATUS = dict(SEVERITY)  # ok 0, warning 1, critical 2


class Command(BaseCommand):
    help = "Print the system health report (periodic tasks, calls, receipts, queue); exit 0 ok, 1 warning, 2 critical."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the report as JSON (for monitoring scripts)")

    def handle(self, *args, **options):
        report = health_report(scheduler_running=scheduler_running())
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            self._print(report)
        if EXIT_STATUS[report.state]:
            self.stdout.flush()
            sys.exit(EXIT_STATUS[report.state])

    def _print(self, report) -> None:
        styles = {WARNING: self.style.WARNING, CRITICAL: self.style.ERROR}
        paint = lambda state, text: styles.get(state, self.style.SUCCESS)(text)  # noqa: E731
        self.stdout.write(paint(report.state, f"{report.state_label} ({report.state})") + f"  {report.checked_at.isoformat()}")
        for _group, label, checks in report.groups():
            self.stdout.write(f"\n{label}")
            for check in checks:
                badge = paint(check.state, f"[{check.state_label}]")
                self.stdout.write(f"  {badge} {check.label}: {check.summary}")
