"""RQ jobs: ids in, one service call each. `enqueue` runs them on Redis when configured, in-process otherwise."""
from django.conf import settings
from django.db import transaction


def enqueue(func, *args) -> None:
    """Run `func(*args)` as a job once the current transaction commits."""
    transaction.on_commit(lambda: _enqueue_now(func, *args))


def _enqueue_now(func, *args) -> None:
    if settings.REDIS_URL:
        import django_rq

        django_rq.get_queue("default").enqueue(func, *args)
    else:
        func(*args)
