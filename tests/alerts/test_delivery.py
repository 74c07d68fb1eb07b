"""Telling people: email through Django's backend, DingTalk / WeCom / Feishu robots over real HTTP with their
signatures checked, and what a manager sees when a mail server or webhook is down."""
import logging
import socket
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from notifications.models import Alert, AlertDelivery, AlertEvent, CallRecord
from notifications.services import alerts as alerts_service
from notifications.services.alerts import alerts_check

from .conftest import NOW, at, make_rule

pytestmark = pytest.mark.django_db
SECRET = "SECdeadbeef0123456789"


@pytest.fixture
def backlog(make_call):
    """A condition that holds: a call queued and due for twenty minutes."""
    return make_call(CallRecord.Status.QUEUED, created=at(minutes=-20))


def queue_rule(**fields):
    return make_rule("backlog", name="队列积压", params={"source": "queue", "minutes": 10}, **fields)


def delivery(rule, channel) -> AlertDelivery:
    return AlertDelivery.objects.get(alert__rule=rule, channel=channel)


def events(rule) -> list[tuple[str, str, str]]:
    return list(AlertEvent.objects.filter(alert__rule=rule).values_list("kind", "channel", "error"))


# ----- email -----

def test_email_goes_to_every_recipient_once(backlog):
    rule = queue_rule(email_recipients="ops@example.com, lead@example.com")
    summary = alerts_check(now=NOW)
    assert summary.delivered == 1
    [message] = mail.outbox
    assert message.to == ["ops@example.com", "lead@example.com"]
    assert "队列积压" in message.subject and "队列积压" in message.body
    alerts_check(now=NOW + timedelta(minutes=5))  # still open: nobody is told twice
    assert len(mail.outbox) == 1
    assert delivery(rule, "email").state == AlertDelivery.State.DELIVERED
    assert ("delivered", "email", "") in events(rule)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_mail_server_that_is_down_is_retried_then_shown_as_not_delivered(backlog, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    rule = queue_rule(email_recipients="ops@example.com")
    started = time.monotonic()
    alerts_check(now=NOW)
    assert time.monotonic() - started < 5
    first = delivery(rule, "email")
    assert first.state == AlertDelivery.State.PENDING and first.attempts == 1
    assert "refused" in first.last_error.lower()
    alerts_check(now=NOW + timedelta(seconds=30))  # before the retry delay: not tried
    assert delivery(rule, "email").attempts == 1
    alerts_check(now=NOW + timedelta(seconds=61))
    summary = alerts_check(now=NOW + timedelta(seconds=122))
    final = delivery(rule, "email")
    assert (final.state, final.attempts, summary.failed) == (AlertDelivery.State.FAILED, 3, 1)
    kinds = [kind for kind, channel, error in events(rule)]
    assert kinds == ["fired", "retrying", "retrying", "not_delivered"]
    assert Alert.objects.get(rule=rule).state == Alert.State.OPEN  # the alert itself stays open


# ----- chat robots -----

@pytest.mark.parametrize("kind", ["dingtalk", "feishu"])
def test_signed_robot_messages_pass_the_services_signature_check(backlog, robot, kind):
    server = robot(kind, SECRET)
    rule = queue_rule(webhook_kind=kind, webhook_url=server.url, webhook_secret=SECRET)
    assert alerts_check(now=NOW).delivered == 1
    assert server.refused == []
    [received] = server.received
    text = received["body"]["text"]["content"] if kind == "dingtalk" else received["body"]["content"]["text"]
    assert "队列积压" in text
    assert delivery(rule, kind).state == AlertDelivery.State.DELIVERED


@pytest.mark.parametrize("kind", ["dingtalk", "feishu"])
def test_a_wrong_secret_is_refused_and_shown_with_the_services_reason(backlog, robot, kind):
    server = robot(kind, SECRET)
    rule = queue_rule(webhook_kind=kind, webhook_url=server.url, webhook_secret="SECwrong")
    alerts_check(now=NOW)
    assert server.received == [] and len(server.refused) == 1
    assert "refused: code" in delivery(rule, kind).last_error


def test_wecom_gets_its_own_message_shape(backlog, robot):
    server = robot("wecom")
    rule = queue_rule(webhook_kind="wecom", webhook_url=server.url)
    alerts_check(now=NOW)
    [received] = server.received
    assert received["body"]["msgtype"] == "text" and "队列积压" in received["body"]["text"]["content"]
    assert delivery(rule, "wecom").state == AlertDelivery.State.DELIVERED


def test_a_webhook_that_does_not_answer_costs_the_check_its_timeout_only(backlog, robot, caplog):
    server = robot("dingtalk", SECRET)
    server.mode, server.delay = "slow", 3
    rule = queue_rule(webhook_kind="dingtalk", webhook_url=server.url, webhook_secret=SECRET)
    started = time.monotonic()
    with caplog.at_level(logging.DEBUG):
        alerts_check(now=NOW)
    assert time.monotonic() - started < 2.5
    assert delivery(rule, "dingtalk").last_error == "no answer within 0.5 s"
    # The address carries the robot's token, the query its signature: neither is logged nor shown.
    assert "tok-SECRET-123" not in caplog.text and SECRET not in caplog.text and "sign=" not in caplog.text


def test_a_webhook_answering_500_is_retried_then_not_delivered(backlog, robot):
    server = robot("feishu", SECRET)
    server.mode = "error500"
    rule = queue_rule(webhook_kind="feishu", webhook_url=server.url, webhook_secret=SECRET, email_recipients="ops@example.com")
    for seconds in (0, 61, 122):
        alerts_check(now=NOW + timedelta(seconds=seconds))
    failed = delivery(rule, "feishu")
    assert (failed.state, failed.attempts, failed.last_error) == (AlertDelivery.State.FAILED, 3, "HTTP 500")
    # The other channel is unaffected.
    assert delivery(rule, "email").state == AlertDelivery.State.DELIVERED and len(mail.outbox) == 1
    server.mode = "ok"
    alerts_check(now=NOW + timedelta(seconds=300))  # given up: not tried a fourth time
    assert server.received == []


def test_an_alert_resolved_before_its_notification_went_out_is_not_sent(backlog, robot):
    server = robot("wecom")
    server.mode = "error500"
    rule = queue_rule(webhook_kind="wecom", webhook_url=server.url)
    alerts_check(now=NOW)
    CallRecord.objects.filter(pk=backlog.pk).update(status=CallRecord.Status.ACCEPTED)
    server.mode = "ok"
    alerts_check(now=NOW + timedelta(seconds=61))
    assert server.received == []
    assert delivery(rule, "wecom").state == AlertDelivery.State.FAILED


# ----- dedupe -----

def test_the_database_refuses_a_second_open_alert_for_one_subject(backlog):
    rule = queue_rule()
    alerts_check(now=NOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(rule=rule, subject_key="queue")


def test_a_check_racing_another_opens_nothing_twice(backlog, monkeypatch):
    rule = queue_rule(email_recipients="ops@example.com")
    alerts_check(now=NOW)
    # As if this check had read the open alerts just before the other one committed its own.
    monkeypatch.setattr(alerts_service, "_open_alerts", lambda rule: {})
    summary = alerts_check(now=NOW + timedelta(seconds=5))
    assert summary.opened == 0
    assert Alert.objects.filter(rule=rule).count() == 1 and len(mail.outbox) == 1


def test_a_condition_back_after_resolving_opens_a_new_alert(backlog, make_call):
    rule = queue_rule()
    alerts_check(now=NOW)
    CallRecord.objects.filter(pk=backlog.pk).update(status=CallRecord.Status.ACCEPTED)
    alerts_check(now=NOW + timedelta(minutes=1))
    make_call(CallRecord.Status.QUEUED, created=at(minutes=-15))
    alerts_check(now=NOW + timedelta(minutes=2))
    assert list(Alert.objects.filter(rule=rule).order_by("opened_at").values_list("state", flat=True)) == ["resolved", "open"]
