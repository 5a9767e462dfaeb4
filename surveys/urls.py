from django.urls import path

from . import rounds_views, views

urlpatterns = [
    path("rate/", views.RateView.as_view(), name="rate"),
    path("rate/<str:period>/", views.RateView.as_view(), name="rate_period"),
    path("rounds/", rounds_views.RoundListView.as_view(), name="round_list"),
    path("rounds/<str:period>/edit/", rounds_views.RoundEditView.as_view(), name="round_edit"),
    path("rounds/<str:period>/responses/", rounds_views.RoundResponsesView.as_view(), name="round_responses"),
]
