"""Creating a campaign: the page and `manage.py campaign create` both come here."""
from django.db import transaction

from notifications.models import AuditEntry, Campaign
from notifications.services.audit import audit_record
from notifications.services.campaign_check import campaign_load_file


@transaction.atomic
def campaign_create(*, name: str, user, uploaded_file, tts_template=None, voice_file=None, caller_numbers=(),
                    play_times: int = 1, volume: int = 100, speed: int | None = None) -> Campaign:
    """A draft campaign with its list read. A list that cannot be read (CampaignFileError) leaves nothing behind:
    the campaign is not kept either, so the operator fixes the file and tries again."""
    campaign = Campaign(name=name, tts_template=tts_template, voice_file=voice_file, play_times=play_times,
                        volume=volume, speed=speed, created_by=user)
    campaign.full_clean()
    campaign.save()
    campaign.caller_numbers.set(caller_numbers)
    campaign_load_file(campaign, uploaded_file)
    audit_record(user=user, action=AuditEntry.Action.CAMPAIGN_CREATED, target=campaign, details={"file": campaign.source_name})
    return campaign
