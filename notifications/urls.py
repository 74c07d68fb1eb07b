"""Console URLs (namespace `notifications`): each area keeps its own list in its views module."""
from django.urls import path

from .views import (
    alerts,
    audit,
    blocked_numbers,
    calls,
    campaigns,
    dialing,
    health,
    history,
    receipts,
    register,
    simulator_link,
    usage,
)
from .views.home import home

app_name = "notifications"

urlpatterns = [
    path("", home, name="home"),
    *register.urlpatterns,
    *dialing.urlpatterns,
    *blocked_numbers.urlpatterns,
    *campaigns.urlpatterns,
    *calls.urlpatterns,
    *receipts.urlpatterns,
    *history.urlpatterns,
    *usage.urlpatterns,
    *simulator_link.urlpatterns,
    *health.urlpatterns,
    *audit.urlpatterns,
    *alerts.urlpatterns,
]
