from django.urls import path, register_converter

from . import dashboard_views, report_views, rounds_views, settings_views, views
from .converters import PeriodConverter

register_converter(PeriodConverter, "period")

urlpatterns = [
    path("rate/", views.RateView.as_view(), name="rate"),
    path("rate/<period:period>/", views.RateView.as_view(), name="rate_period"),
    path("rounds/", rounds_views.RoundListView.as_view(), name="round_list"),
    path("rounds/<period:period>/edit/", rounds_views.RoundEditView.as_view(), name="round_edit"),
    path("rounds/<period:period>/responses/", rounds_views.RoundResponsesView.as_view(), name="round_responses"),
    path("dashboard/", dashboard_views.DashboardView.as_view(), name="dashboard"),
    path("dashboard/<period:period>/", dashboard_views.DashboardView.as_view(), name="dashboard_period"),
    path(
        "dashboard/<period:period>/directorates/<int:directorate_id>/",
        dashboard_views.DashboardView.as_view(),
        name="dashboard_directorate",
    ),
    path("reports/<period:period>-pulse.csv", report_views.PulseCsvView.as_view(), name="report_pulse_csv"),
    path("reports/<period:period>.csv", report_views.ReportCsvView.as_view(), name="report_csv"),
    path("settings/analysis/", settings_views.AnalysisSettingsView.as_view(), name="analysis_settings"),
]
