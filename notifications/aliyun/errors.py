"""Typed failures of the provider, classified by whether a retry could ring someone twice."""


class VmsError(Exception):
    """Any failure talking to the provider."""

    # Why, when the provider gave no code of its own (the console words each cause in the user's language).
    UNREACHABLE, NO_ANSWER, NO_CALL_ID, MALFORMED = "unreachable", "no_answer", "no_call_id", "malformed"

    def __init__(self, message: str, *, code: str = "", request_id: str = "", http_status: int | None = None,
                 cause: str = ""):
        super().__init__(message)
        self.cause = cause
        self.message = message
        self.code = code
        self.request_id = request_id
        self.http_status = http_status


class VmsRejected(VmsError):
    """Refused (bad number, template, parameters, signature): nothing was placed; sending again won't help."""


class VmsFlowControlled(VmsRejected):
    """The provider's per-callee flow control refused the call; only a later window would accept it."""


class VmsThrottled(VmsError):
    """Not placed (QPS throttling, connection refused, service unavailable): safe to try again later."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class VmsOutcomeUnknown(VmsError):
    """No clear answer after the request left (read timeout, 5xx): the call may be ringing. Never redial."""
