"""Open-ended input to the rule form: whatever is typed as recipients or thresholds, the form either saves something
clean or names the field that is wrong; it never fails."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifications.forms.alerts import AlertRuleForm, mask_secret

pytestmark = pytest.mark.django_db

ADDRESS = st.from_regex(r"[a-z][a-z0-9]{0,10}(\.[a-z0-9]{1,5})?@[a-z]{1,8}\.(com|cn|net)", fullmatch=True)


def form(**overrides) -> AlertRuleForm:
    data = {"name": "号码到期", "kind": "expiry", "active": "on", "expiry__days": "30", "webhook_kind": "", **overrides}
    return AlertRuleForm(data)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(addresses=st.lists(ADDRESS, min_size=1, max_size=5), spaces=st.sampled_from(["", " ", "  ", "\t"]))
def test_valid_addresses_in_any_spacing_are_kept_in_order(addresses, spaces):
    typed = ",".join(f"{spaces}{address}{spaces}" for address in addresses) + ("," if spaces else "")
    bound = form(email_recipients=typed)
    assert bound.is_valid(), bound.errors
    assert bound.cleaned_data["email_recipients"] == ", ".join(addresses)


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(recipients=st.text(max_size=80), days=st.text(max_size=8))
def test_any_text_is_saved_clean_or_refused_next_to_its_field(recipients, days):
    bound = form(email_recipients=recipients, expiry__days=days)
    if bound.is_valid():
        assert 1 <= bound.instance.params["days"] <= 365
    else:
        assert set(bound.errors) <= {"email_recipients", "expiry__days"}


@given(secret=st.text(min_size=13, max_size=100))
def test_a_masked_secret_shows_four_characters_at_most(secret):
    masked = mask_secret(secret)
    assert secret not in masked or len(secret) <= 4
    assert len(masked.replace("…", "")) <= 4 or "://" in masked
