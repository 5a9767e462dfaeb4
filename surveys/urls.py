from django.urls import path

from . import views

urlpatterns = [
    path("rate/", views.RateView.as_view(), name="rate"),
    path("rate/<str:period>/", views.RateView.as_view(), name="rate_period"),
]
