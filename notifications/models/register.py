"""The company's register of provider resources: qualifications, caller numbers, voice files, TTS templates."""
from datetime import date

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from notifications.rules.company_clock import company_today

from .choices import Mode, Purpose, ReviewStatus


class Reviewed(models.Model):
    """Fields of anything that goes through the provider's review: draft → submitted → approved / rejected."""

    Status = ReviewStatus

    status = models.CharField(_("status"), max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT, db_index=True)
    reject_reason = models.TextField(_("rejection reason"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True, verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("submitted by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("decision recorded by"),
    )
    reviewed_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_editable(self) -> bool:
        return self.status in (ReviewStatus.DRAFT, ReviewStatus.REJECTED)

    @property
    def is_approved(self) -> bool:
        return self.status == ReviewStatus.APPROVED

    @property
    def decision_is_current(self) -> bool:
        """Whether the recorded decision answers the latest submission (and `status` is that decision)."""
        return self.reviewed_at is not None and (self.submitted_at is None or self.reviewed_at >= self.submitted_at)

    @property
    def rejected_before_resubmission(self) -> bool:
        """A decision older than the latest submission: only a rejection can be submitted again."""
        return self.reviewed_at is not None and self.submitted_at is not None and self.reviewed_at < self.submitted_at


class Qualification(Reviewed):
    """Enterprise qualification (企业资质): required before any call, in either mode."""

    company_name = models.CharField(_("company name"), max_length=100)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    legal_representative = models.CharField(_("legal representative"), max_length=50)
    contact_name = models.CharField(_("contact name"), max_length=50)
    contact_phone = models.CharField(_("contact phone"), max_length=20)
    licence = models.FileField(_("business licence"), upload_to="licences/%Y/%m/", blank=True)
    purpose = models.CharField(_("number purpose"), max_length=16, choices=Purpose.choices, default=Purpose.NOTIFICATION)
    provider_name = models.CharField(_("name at the provider"), max_length=100, blank=True)
    # The last day the qualification is valid (the licence's or the provider's term): watched by the expiry alerts.
    expires_on = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("qualification")
        verbose_name_plural = _("qualifications")
        permissions = [("review_qualification", _("Can record the provider's review decision"))]

    def __str__(self) -> str:
        return self.company_name


class CallerNumberQuerySet(models.QuerySet):
    def not_expired(self, today: date):
        """Numbers without an expiry date or whose date is `today` or later (the ones that may still be offered)."""
        return self.filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))

    def expired(self, today: date):
        return self.filter(expires_on__lt=today)


class CallerNumber(models.Model):
    """A purchased number (真实号) shown as caller ID in dedicated mode."""

    class Type(models.TextChoices):
        MOBILE = "mobile", _("Mobile")
        LANDLINE = "landline", _("Landline")
        SPECIAL_400 = "400", _("400 number")
        SPECIAL_95 = "95", _("95 number")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        RELEASED = "released", _("Released")

    number = models.CharField(_("number"), max_length=20, unique=True, help_text=_("Digits only, landlines with area code."))
    number_type = models.CharField(_("type"), max_length=10, choices=Type.choices, default=Type.LANDLINE)
    province = models.CharField(_("province"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    qualification = models.ForeignKey(
        Qualification, on_delete=models.PROTECT, related_name="numbers", verbose_name=_("qualification")
    )
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices, default=Purpose.NOTIFICATION)
    monthly_rent = models.DecimalField(
        _("monthly rent (CNY)"), max_digits=10, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    purchased_on = models.DateField(_("purchased on"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CallerNumberQuerySet.as_manager()

    class Meta:
        ordering = ["number"]
        verbose_name = _("caller number")
        verbose_name_plural = _("caller numbers")
        permissions = [("manage_callernumber_status", _("Can activate, suspend and release numbers"))]

    def __str__(self) -> str:
        return self.number

    @property
    def is_usable(self) -> bool:
        return (self.status == self.Status.ACTIVE and self.qualification.status == ReviewStatus.APPROVED
                and not self.is_expired)

    def has_expired(self, today: date) -> bool:
        """Past its expiry date: usable up to and including `expires_on`, refused from the day after."""
        return self.expires_on is not None and self.expires_on < today

    @property
    def is_expired(self) -> bool:
        """Expired as of today in the company's time zone (what the number pages show)."""
        return self.has_expired(company_today())


class VoiceFile(Reviewed):
    """A recorded WAV/MP3 played by SingleCallByVoice; verified by parsing, not by its name."""

    class Format(models.TextChoices):
        WAV = "wav", "WAV"
        MP3 = "mp3", "MP3"

    name = models.CharField(_("name"), max_length=100)
    audio = models.FileField(_("audio file"), upload_to="voice/%Y/%m/")
    audio_format = models.CharField(_("format"), max_length=4, choices=Format.choices, blank=True)
    duration_seconds = models.DecimalField(_("duration (s)"), max_digits=7, decimal_places=2, null=True, blank=True)
    size_bytes = models.PositiveIntegerField(_("size (bytes)"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices, default=Mode.PUBLIC)
    qualification = models.ForeignKey(
        Qualification, on_delete=models.PROTECT, related_name="voice_files", verbose_name=_("qualification")
    )
    voice_code = models.CharField(_("VoiceCode"), max_length=100, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("voice file")
        verbose_name_plural = _("voice files")
        permissions = [("review_voicefile", _("Can record the provider's review decision"))]
        constraints = [
            models.UniqueConstraint(fields=["voice_code"], condition=~Q(voice_code=""), name="voicefile_voice_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class TtsTemplate(Reviewed):
    """A TTS template with ${variables}; approved templates are immutable (a change is a new template)."""

    name = models.CharField(_("name"), max_length=30)
    content = models.TextField(_("content"), max_length=1000)
    kind = models.CharField(_("kind"), max_length=16, choices=Purpose.choices, default=Purpose.NOTIFICATION)
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices, default=Mode.PUBLIC)
    qualification = models.ForeignKey(
        Qualification, on_delete=models.PROTECT, related_name="tts_templates", verbose_name=_("qualification")
    )
    tts_code = models.CharField(_("TtsCode"), max_length=64, blank=True, db_index=True)
    variables = models.JSONField(_("variables"), default=list, blank=True, editable=False)
    # The version "Copy as new" made this one from. PROTECT: a template with copies cannot be deleted, since that would
    # cut its family in two and lose which wording came from which.
    copied_from = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="copies", verbose_name=_("copied from")
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("TTS template")
        verbose_name_plural = _("TTS templates")
        permissions = [("review_ttstemplate", _("Can record the provider's review decision"))]
        constraints = [
            models.UniqueConstraint(fields=["tts_code"], condition=~Q(tts_code=""), name="ttstemplate_tts_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name
