"""Voice files learn their review result by themselves: the provider is asked (QueryVoiceFileAuditInfo) about every
file waiting for review that has a VoiceCode, and each final answer is recorded as a manager's decision would be.

- Ten codes a request (the API's maximum), at most VOICE_FILE_AUDIT_QPS requests a second.
- `AUDIT_STATE_PASS` approves the file with its code, `AUDIT_STATE_NOT_PASS` rejects it with the provider's RejectInfo
  as the reason; every other state (under review, being uploaded, reprocessed, paused, waiting for the carrier,
  cancelled) leaves the file waiting. The audit entry has no user and says the provider's query reported it.
- A provider error (throttling, signature, network, an answer of the wrong shape) ends the run: the files not yet
  answered stay as they were and the next run asks again. A code the provider does not answer for is an error of
  that file only. Nothing logged carries the access key, the signature or the signed query (the client sees to it).
"""
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from notifications import work
from notifications.aliyun import VmsError, get_vms_client, spec
from notifications.models import ReviewStatus, VoiceFile
from notifications.services import provider_sync
from notifications.services.review import DECISION_FROM_PROVIDER, resource_record_decision

logger = logging.getLogger(__name__)


@dataclass
class AuditSyncSummary:
    approved: int = 0
    rejected: int = 0
    waiting: int = 0
    errors: int = 0  # files whose answer could not be had or recorded this run
    requests: int = 0
    last_error: str = ""

    def __str__(self) -> str:
        text = _("%(approved)d approved, %(rejected)d rejected, %(waiting)d still in review, %(errors)d errors") % {
            "approved": self.approved, "rejected": self.rejected, "waiting": self.waiting, "errors": self.errors}
        if self.last_error:
            text += " (" + self.last_error + ")"
        return text


def _error_words(exc: VmsError) -> str:
    return exc.code or exc.cause or type(exc).__name__


SYNC_JOB = "notifications.jobs.voice_file_audit_sync_job"


def voice_file_audit_sync_request(*, user) -> None:
    """A manager's "Ask the provider now": a run of the periodic task off the request (it paces its requests)."""
    if not user.has_perm("notifications.review_voicefile"):
        raise PermissionDenied(_("You may not record review decisions."))
    work.run_soon(SYNC_JOB)


def voice_file_audit_sync(*, qps: float | None = None, sleep=time.sleep, clock=time.monotonic) -> AuditSyncSummary:
    """One run of the sync (see the module's docstring); returns what it did."""
    summary = AuditSyncSummary()
    files = {code: pk for pk, code in VoiceFile.objects.filter(status=ReviewStatus.SUBMITTED).exclude(voice_code="")
             .order_by("submitted_at", "pk").values_list("pk", "voice_code")}
    if not files:
        return summary
    codes = list(files)
    spacing = 1.0 / max(float(qps or settings.VOICE_FILE_AUDIT_QPS), 0.01)
    client = get_vms_client()
    last_request = None
    for start in range(0, len(codes), spec.AUDIT_QUERY_MAX_CODES):
        batch = codes[start:start + spec.AUDIT_QUERY_MAX_CODES]
        if last_request is not None:
            wait = spacing - (clock() - last_request)
            if wait > 0:
                sleep(wait)
        last_request = clock()
        summary.requests += 1
        try:
            answers = client.query_voice_file_audit(voice_codes=batch)
        except VmsError as exc:
            # Every later request would meet the same throttle, key or network: the rest waits for the next run.
            summary.errors += len(codes) - start
            summary.last_error = _error_words(exc)
            logger.warning("voice file review sync stopped: %s (request_id=%s), %d files left for the next run",
                           summary.last_error, exc.request_id, len(codes) - start)
            break
        by_code = {answer.voice_code: answer for answer in answers}
        for code in batch:
            answer = by_code.get(code)
            if answer is None:
                summary.errors += 1
                summary.last_error = "unknown VoiceCode"
                logger.warning("voice file review sync: the provider does not know the code of voice file %s", files[code])
            elif answer.state == spec.AUDIT_APPROVED:
                summary.approved += _record(files[code], code, approved=True, reason="", summary=summary)
            elif answer.state == spec.AUDIT_REJECTED:
                summary.rejected += _record(files[code], code, approved=False, reason=answer.reject_info, summary=summary)
            elif answer.state == "unknown":
                summary.errors += 1
                summary.last_error = "AuditState " + answer.provider_state[:40]
                logger.warning("voice file review sync: unknown AuditState %r for voice file %s", answer.provider_state[:40],
                               files[code])
            else:
                summary.waiting += 1
    return summary


def _record(pk: int, code: str, *, approved: bool, reason: str, summary: AuditSyncSummary) -> int:
    """Record one final answer through the review service; 1 when recorded, 0 (counted as an error) when not."""
    voice_file = VoiceFile.objects.filter(pk=pk).first()
    if voice_file is None:
        return 0
    if not approved and not reason.strip():
        with translation.override(settings.LANGUAGE_CODE):  # no reader here: the console's language
            reason = _("The provider rejected the file without giving a reason.")
    try:
        resource_record_decision(resource=voice_file, approved=approved, code=code, reason=reason, source=DECISION_FROM_PROVIDER)
    except ValidationError as exc:
        # Decided meanwhile by a manager, or a qualification no longer approved: the file's page says why.
        provider_sync.note_unrecorded_review(voice_file, approved=approved, code=code, reason=reason, error=exc)
        summary.errors += 1
        summary.last_error = "not recorded"
        logger.warning("voice file review sync: the answer for voice file %s was not recorded: %s", pk, exc.messages)
        return 0
    return 1
