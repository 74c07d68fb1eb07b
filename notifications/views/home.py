"""The landing page."""
from django.shortcuts import render


def home(request):
    return render(request, "notifications/home.html")
