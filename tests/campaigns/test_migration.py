"""Migration 0017 keeps each refusal written before it, shown as it was written whatever the reader's language."""
import pytest
from django.utils import translation

from notifications.models import CampaignRow
from tests.migrations import latest_schema_afterwards, migrate_to  # noqa: F401  (autouse fixture)

BEFORE = [("notifications", "0016_usage_and_cost")]
AFTER = [("notifications", "0017_campaign_row_refusal_in_each_language")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_refusal_written_in_one_language_is_kept_and_shown_as_written():
    old = migrate_to(BEFORE)
    user = old.get_model("auth", "User").objects.create(username="creator")
    campaign = old.get_model("notifications", "Campaign").objects.create(name="旧任务", created_by=user)
    OldRow = old.get_model("notifications", "CampaignRow")
    OldRow.objects.create(campaign=campaign, row_number=2, raw_number="12345", state="refused",
                          refusal_code="number_invalid", refusal_message="手机号：“12345”不是有效的号码。")
    OldRow.objects.create(campaign=campaign, row_number=3, raw_number="13900001230", called_number="13900001230")

    new = migrate_to(AFTER)
    rows = dict(new.get_model("notifications", "CampaignRow").objects.values_list("row_number", "refusal_messages"))
    assert rows == {2: {"": "手机号：“12345”不是有效的号码。"}, 3: {}}
    migrate_to()
    refused = CampaignRow.objects.get(row_number=2)
    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert refused.refusal_message == "手机号：“12345”不是有效的号码。"

