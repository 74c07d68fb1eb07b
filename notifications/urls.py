"""Console URLs (namespace `notifications`): each area keeps its own list in its views module."""
from django.urls import path

from .views import calls, dialing, history, register, simulator_link
from .views.home import home

app_name = "notifications"

urlpatterns = [
    path("", home, name="home"),
    *register.urlpatterns,
    *dialing.urlpatterns,
    *calls.urlpatterns,
    *history.urlpatterns,
    *simulator_link.urlpatterns,
]
