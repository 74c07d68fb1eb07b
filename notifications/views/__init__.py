"""Console views, one module per area; each module exports its `urlpatterns`."""
