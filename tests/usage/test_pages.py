"""The Usage page, its CSV and the price list: managers only, figures from the daily aggregates, prices validated."""
import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from notifications.models import AuditEntry, CallRecord, PriceRule
from notifications.services.stats import daily_stats_refresh
from notifications.services.usage import calls_bill

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def billed_month(make_call, register, notification_price, operator):
    register["template"].name = "=HYPERLINK(\"http://x\")"  # typed by staff: must not run in a spreadsheet
    register["template"].save()
    for seconds in (30, 90):
        make_call(code="200000", duration=seconds, user=operator)
    calls_bill()
    daily_stats_refresh(days=[timezone.localdate()])


def test_managers_see_the_months_cost_and_operators_do_not(client, manager, operator, billed_month):
    client.force_login(manager)
    page = client.get("/usage/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-figure="month_cost">¥0.15<' in page
    assert "3 billed minutes" in page
    months = page.split('id="va-usage-months"')[1].split("</table>")[0]
    assert f'?month={timezone.localdate():%Y-%m}' in months and "¥0.15" in months
    assert "Voice notification prices are set by your contract" not in page  # a notification price is entered
    client.force_login(operator)
    assert client.get("/usage/").status_code == 403
    assert client.get("/usage/prices/").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for path in ("/usage/", "/usage/usage.csv", "/usage/prices/"):
        response = client.get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], path


def test_without_notification_prices_the_page_says_where_they_belong(client, manager):
    client.force_login(manager)
    page = client.get("/usage/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Voice notification prices are set by your contract" in page


def test_an_earlier_month_is_chosen_from_the_list_and_a_forged_one_falls_back_to_this_month(client, manager, billed_month):
    client.force_login(manager)
    last_month = (timezone.localdate().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    page = client.get(f"/usage/?month={last_month}").content.decode()
    assert "No calls in this month." in page and f'value="{last_month}" selected' in page
    assert client.get("/usage/?month=1999-01").status_code == 200


def test_the_csv_is_formula_safe_and_opens_in_excel(client, manager, billed_month):
    client.force_login(manager)
    response = client.get("/usage/usage.csv", HTTP_ACCEPT_LANGUAGE="en")
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff") and response["Content-Disposition"].startswith('attachment; filename="usage-')
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    template = next(row for row in rows if row[0] == "TTS template")
    assert template[1].startswith("'=") and template[2:6] == ["2", "2", "3", "0.1500"]


def test_a_manager_enters_a_price_and_bad_entries_are_refused_next_to_their_field(client, manager, make_call):
    call = make_call(code="200000", dedicated=True)
    calls_bill()
    assert CallRecord.objects.get(pk=call.pk).billed_cost is None
    client.force_login(manager)
    today = timezone.localdate()
    form = {"mode": "dedicated", "kind": "notification", "unit": "minute", "unit_price": "-1",
            "effective_from": today.isoformat(), "note": ""}
    page = client.post("/usage/prices/", form, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="id_unit_price_error"' in page and PriceRule.objects.filter(mode="dedicated", kind="notification").count() == 0

    response = client.post("/usage/prices/", {**form, "unit_price": "0.09"})
    assert response.status_code == 302
    again = client.post("/usage/prices/", {**form, "unit_price": "0.10"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "already exists" in again  # one price per mode, kind and day
    calls_bill()
    assert CallRecord.objects.get(pk=call.pk).billed_cost == Decimal("0.0900")
    assert AuditEntry.objects.filter(action=AuditEntry.Action.PRICE_ADDED, user=manager).count() == 1


def test_operators_cannot_enter_prices(client, operator):
    client.force_login(operator)
    response = client.post("/usage/prices/", {"mode": "public", "kind": "notification", "unit": "call", "unit_price": "1",
                                              "effective_from": "2026-01-01"})
    assert response.status_code == 403 and not PriceRule.objects.filter(unit_price=1).exists()
