"""The local all-in-one behind `make run`: the simulator, the in-process job scheduler and the development server."""
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from notifications import jobs
from notifications.services import provider_sync

STARTUP_SECONDS = 20.0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Run the console on 127.0.0.1 with the provider simulator beside it (DEBUG, SQLite, jobs in-process); Ctrl-C stops both."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--simulator-port", type=int, default=8001)

    def handle(self, *args, port: int, simulator_port: int, **options):
        if not settings.DEBUG:
            raise CommandError(_("runconsole is for local use only: set DJANGO_DEBUG=1 (make run does)."))
        children = self._link_settings(port, simulator_port)
        simulator_url = settings.ALIYUN_VMS_ENDPOINT
        simulator = subprocess.Popen(
            [sys.executable, str(settings.BASE_DIR / "manage.py"), "runsimulator", "--host", "127.0.0.1", "--port", str(simulator_port)],
            env=children,
        )
        # SIGTERM (a `kill`, a closed terminal) ends the console like Ctrl-C does, so the simulator never outlives it.
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            self._wait_for(simulator, settings.SIMULATOR_CONTROL_URL + "account")
            provider_sync.publish_account()
            # Without Redis the jobs, retries and periodic tasks (the table in notifications/cron.py) run in this
            # process's scheduler thread, off the request threads.
            if not settings.REDIS_URL:
                from notifications import cron

                jobs.scheduler.start(periodic=cron.in_process_tasks())
            self.stdout.write(self.style.SUCCESS(_("Simulator ready on %(url)s") % {"url": simulator_url}))
            self.stdout.write(self.style.SUCCESS(
                _("Log in at %(url)s (users and passwords were printed by `manage.py seed_demo`).")
                % {"url": f"http://127.0.0.1:{port}/accounts/login/"}
            ))
            # No autoreloader: it would fork a second process without the scheduler and the simulator link.
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
        finally:
            simulator.terminate()
            try:
                simulator.wait(timeout=5)
            except subprocess.TimeoutExpired:
                simulator.kill()

    @staticmethod
    def _link_settings(port: int, simulator_port: int) -> dict:
        """Point this console at its own simulator and the simulator back at this console's port; return the
        simulator process's environment."""
        simulator_url = f"http://127.0.0.1:{simulator_port}/"
        console_url = f"http://127.0.0.1:{port}"
        settings.ALIYUN_VMS_ENDPOINT = simulator_url  # the all-in-one always talks to its own simulator
        # Review decisions come back here: the callback address is built from this setting, whatever the port.
        settings.SIMULATOR_CONSOLE_URL = console_url
        if "CALL_DETAIL_QUERY_AFTER_MINUTES" not in os.environ:
            # The simulator has its details ready in seconds, so calls with lost receipts are looked up sooner.
            settings.CALL_DETAIL_QUERY_AFTER_MINUTES = 0.5
        if not settings.SIMULATOR_CONTROL_URL:
            settings.SIMULATOR_CONTROL_URL = simulator_url + "_simulator/"
        os.environ["SIMULATOR_CONTROL_URL"] = settings.SIMULATOR_CONTROL_URL
        return {
            **os.environ,
            "DJANGO_DEBUG": "1",
            "SIMULATOR_CONTROL_URL": settings.SIMULATOR_CONTROL_URL,
            "ALIYUN_VMS_ENDPOINT": simulator_url,
            "SIMULATOR_RECEIPT_BASE_URL": f"{console_url}/receipts/",
        }

    @staticmethod
    def _wait_for(process: subprocess.Popen, url: str) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise CommandError(_("The simulator stopped during start-up (exit code %(code)s).") % {"code": process.returncode})
            try:
                with urllib.request.urlopen(url, timeout=1):
                    return
            except urllib.error.HTTPError:
                return  # it answers, even if not with 200
            except OSError:
                time.sleep(0.2)
        raise CommandError(_("The simulator did not answer at %(url)s within %(seconds)d s.") % {"url": url, "seconds": STARTUP_SECONDS})
