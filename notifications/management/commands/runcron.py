"""The cron process of the services mode: enqueues the periodic tasks of notifications/cron.py on Redis.

It is django-rq's DjangoCronScheduler (the same as `manage.py rqcron notifications.cron`) with two things RQ's
loop lacks: it outlives a Redis restart (RQ's loop ends on the first ConnectionError; here the error is logged and
the loop waits and reconnects), and only one of several cron processes enqueues at a time (a leader key with expiry,
renewed every second; a standby takes over within CRON_LEADER_SECONDS when the leader dies), so a second cron
process on another host is a spare, not a source of duplicate ticks.
"""
import logging
import signal
import time

import redis
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django_rq.cron import DjangoCronScheduler
from rq.exceptions import DuplicateSchedulerError, SchedulerNotFound, StopRequested

logger = logging.getLogger("notifications.cron")

CONFIG = "notifications.cron"
LEADER_KEY = "voiceadmin:cron:leader"
TICK_SECONDS = 1.0  # the longest sleep: leadership and Redis are checked at least this often
RECONNECT_MAX_SECONDS = 10.0

# Renew the leader key only if it is still ours (compare and extend in one step).
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) end
return 0
"""


class ResilientCronScheduler(DjangoCronScheduler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.leading = False
        self._registered = False

    def _lead(self) -> bool:
        """Hold (or take) the leader key; True while this process is the one that enqueues."""
        from django.conf import settings

        seconds = max(2, int(settings.CRON_LEADER_SECONDS))
        if self.connection.set(LEADER_KEY, self.name, nx=True, ex=seconds):
            became = True
        else:
            became = bool(self.connection.eval(_RENEW, 1, LEADER_KEY, self.name, seconds))
        if became and not self.leading:
            logger.info("cron %s: leading; enqueuing %d periodic tasks", self.name, len(self.get_jobs()))
            # Each task is due at once: a new leader does not know when the old one last enqueued it.
            for job in self.get_jobs():
                job.latest_enqueue_time = None
        elif not became and self.leading:
            logger.warning("cron %s: another cron process leads now; standing by", self.name)
        self.leading = became
        return became

    def _birth(self) -> None:
        if self._registered:
            return
        try:
            self.register_birth()
        except DuplicateSchedulerError:
            pass  # still registered from before a reconnect
        self._registered = True

    def start(self):
        logger.info("cron %s: starting", self.name)
        self._install_signal_handlers()
        wait = 1.0
        try:
            while True:
                try:
                    self._birth()
                    if self._lead() and self.enqueue_jobs():
                        self.save()
                    self.heartbeat()
                    wait = 1.0
                    time.sleep(max(0.0, min(self.calculate_sleep_interval(), TICK_SECONDS)))
                except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                    # Redis restarting or unreachable: keep trying; the ticks missed meanwhile are simply later.
                    logger.warning("cron %s: Redis unavailable (%s); retrying in %.0f s", self.name, exc, wait)
                    self.leading = self._registered = False
                    time.sleep(wait)
                    wait = min(wait * 2, RECONNECT_MAX_SECONDS)
        except (KeyboardInterrupt, StopRequested):
            logger.info("cron %s: stopping", self.name)
        finally:
            try:
                self.connection.eval(
                    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
                    1, LEADER_KEY, self.name)
                self.register_death()
            except (redis.exceptions.RedisError, SchedulerNotFound):
                pass


class Command(BaseCommand):
    help = ("Enqueue the periodic tasks (follow-up, dispatcher wake-up, receipt inbox, pruning) on Redis; "
            "run one or two of these beside the workers and keep them running (systemd, compose: docs/deployment.md).")

    def add_arguments(self, parser):
        parser.add_argument("--logging-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])

    def handle(self, *args, logging_level: str, **options):
        from django.conf import settings

        if not settings.REDIS_URL:
            raise CommandError(_("REDIS_URL is not set: without Redis the periodic tasks run inside `runconsole`."))
        logging.getLogger("notifications").setLevel(logging_level)
        scheduler = ResilientCronScheduler(logging_level=getattr(logging, logging_level))
        scheduler.load_config_from_file(CONFIG)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        self.stdout.write(_("Enqueuing %(count)d periodic tasks on Redis (cron %(name)s).")
                          % {"count": len(scheduler.get_jobs()), "name": scheduler.name})
        self.stdout.flush()
        scheduler.start()
