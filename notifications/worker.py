"""The RQ worker VoiceAdmin runs (settings.RQ["WORKER_CLASS"]): RQ's SimpleWorker, which outlives a Redis restart.

RQ's loop waits and retries while Redis is away only when it is waiting for a job. A ConnectionError anywhere else in
the loop (recording the end of a job, the heartbeat after it, the suspension check, the maintenance) ends the process
with "found an unhandled exception, quitting", so a Redis restart in the last moment of a job stopped the worker.
Here those steps log and go on, and the loop's own wait takes over. Nothing is lost by it: a job's work is in the
database, and its record in Redis went with the restart anyway. No fork per job (SimpleWorker) is what the figures in
the README were measured with.
"""
import time

import redis
from rq import SimpleWorker

REDIS_AWAY = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
RECONNECT_WAIT_SECONDS = 1.0


class ReconnectingWorker(SimpleWorker):
    def _redis_may_be_away(self, step: str, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except REDIS_AWAY as exc:
            self.log.warning("Worker %s: Redis went away while %s (%s); waiting for it to come back", self.name, step, exc)
            return None

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        # RQ's own wait covers the dequeue itself, not the state it records before and after it.
        while True:
            try:
                return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
            except REDIS_AWAY as exc:
                self.log.warning("Worker %s: Redis is away (%s); trying again in %.0f s", self.name, exc, RECONNECT_WAIT_SECONDS)
                time.sleep(RECONNECT_WAIT_SECONDS)

    def execute_job(self, job, queue):
        return self._redis_may_be_away(f"finishing job {job.id}", super().execute_job, job, queue)

    def heartbeat(self, timeout=None, pipeline=None):
        if pipeline is not None:  # only queued on the pipeline; its caller executes it
            return super().heartbeat(timeout, pipeline)
        return self._redis_may_be_away("sending its heartbeat", self._heartbeat_registered, timeout)

    def _heartbeat_registered(self, timeout):
        # A restarted Redis keeps nothing: without registering again this worker would be missing from the worker list
        # (the health page's "workers alive") although it takes jobs.
        if not self.connection.exists(self.key):
            self.register_birth()
            self.log.info("Worker %s: registered again after a Redis restart", self.name)
        super().heartbeat(timeout)

    def check_for_suspension(self, burst: bool):
        return self._redis_may_be_away("checking for suspension", super().check_for_suspension, burst)

    def run_maintenance_tasks(self):
        return self._redis_may_be_away("cleaning the registries", super().run_maintenance_tasks)
