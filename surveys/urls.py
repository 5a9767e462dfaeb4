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

# Reminder emails: the signed opt-out link (no sign-in needed) and the member's profile.
from . import reminder_views  # noqa: E402  (appended with its URLs)

urlpatterns += [
    path("reminders/opt-out/<str:token>/", reminder_views.ReminderOptOutView.as_view(), name="reminders_opt_out"),
    path("profile/", reminder_views.ProfileView.as_view(), name="profile"),
]

# Board report archive (issue #6); after the CSV entries above, which they do not overlap.
from . import report_archive_views  # noqa: E402

urlpatterns += [
    path("reports/", report_archive_views.ReportListView.as_view(), name="report_list"),
    path("reports/<period:period>/", report_archive_views.ReportDetailView.as_view(), name="report_detail"),
    path("reports/<period:period>.pdf", report_archive_views.ReportPdfView.as_view(), name="report_pdf"),
]

# Comment safety review (issue #23).
from . import comment_review_views  # noqa: E402

urlpatterns += [
    path("comments/review/", comment_review_views.CommentReviewView.as_view(), name="comment_review"),
    path("comments/reviewers/", comment_review_views.CommentReviewersView.as_view(), name="comment_reviewers"),
]
