"""Calls built directly (tests/history's builders), priced by a price list the tests write."""
from datetime import date
from decimal import Decimal

import pytest

from notifications.models import PriceRule
from tests.history.conftest import make_call, register  # noqa: F401

PUBLISHED_FROM = date(2017, 5, 25)


@pytest.fixture
def notification_price(db):
    """A contract's notification price: ¥0.05 a started minute in the public pool from 2026-01-01."""
    return PriceRule.objects.create(mode="public", kind="notification", unit=PriceRule.Unit.MINUTE,
                                    unit_price=Decimal("0.0500"), effective_from=date(2026, 1, 1))
