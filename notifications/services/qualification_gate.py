"""The provider reviews templates and voice files only under an approved qualification: the check and its words.

Refused where it starts (submitting, and recording an approval), not when the content is dialled, and said in words a
business user acts on: which qualification, its state, what to do next.
"""
from django.utils.translation import gettext as _

from notifications.models import Qualification, ReviewStatus

SUBMIT = "submit"
APPROVE = "approve"


def qualification_problem(qualification_id: int | None, *, action: str = SUBMIT) -> str:
    """Why content under this qualification cannot be submitted (or its approval recorded) yet; "" when it can.

    Reads the qualification's state as stored, not from an instance that may be stale.
    """
    row = Qualification.objects.filter(pk=qualification_id).values("company_name", "status", "reject_reason").first()
    if row is None:
        return _("Choose the qualification this belongs to before submitting it.")
    if row["status"] == ReviewStatus.APPROVED:
        return ""
    params = {"name": row["company_name"], "state": ReviewStatus(row["status"]).label, "reason": row["reject_reason"] or "—"}
    if action == APPROVE:
        head = _("The approval cannot be recorded: its qualification “%(name)s” is “%(state)s”, and the provider "
                 "approves content only under an approved qualification.") % params
    else:
        head = _("This cannot be submitted yet: its qualification “%(name)s” is “%(state)s”, and the provider reviews "
                 "content only under an approved qualification.") % params
    if action == APPROVE:
        advice = _("Record the qualification's approval first, then record this one.")
    elif row["status"] == ReviewStatus.DRAFT:
        advice = _("Submit the qualification for review first; once it is approved, submit this again.")
    elif row["status"] == ReviewStatus.SUBMITTED:
        advice = _("Wait for the qualification's review; once it is approved, submit this again.")
    else:
        advice = _("The qualification was rejected (reason: %(reason)s). Correct it and submit it again, or choose "
                   "an approved qualification on this item's edit page; then submit this again.") % params
    return f"{head} {advice}"
