"""Choices shared by several entities."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Mode(models.TextChoices):
    """Public pool calls carry no caller number; dedicated calls show one of our purchased numbers."""

    PUBLIC = "public", _("Public pool")
    DEDICATED = "dedicated", _("Dedicated")


class Purpose(models.TextChoices):
    NOTIFICATION = "notification", _("Voice notification")
    VERIFICATION = "verification", _("Verification code")


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
