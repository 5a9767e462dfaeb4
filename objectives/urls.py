from django.urls import path

from partnership.import_views import CsvImportConfirmView, CsvImportView

from . import views
from .importers import OBJECTIVES

urlpatterns = [
    path("", views.ObjectiveListView.as_view(), name="objective_list"),
    path("new/", views.ObjectiveCreateView.as_view(), name="objective_create"),
    path(
        "import/",
        CsvImportView.as_view(importer=OBJECTIVES, required_action="objectives.import"),
        name="objectives_import",
    ),
    path(
        "import/confirm/",
        CsvImportConfirmView.as_view(importer=OBJECTIVES, required_action="objectives.import"),
        name="objectives_import_confirm",
    ),
    path("<slug:ref>/", views.ObjectiveDetailView.as_view(), name="objective_detail"),
    path("<slug:ref>/edit/", views.ObjectiveEditView.as_view(), name="objective_edit"),
    path("<slug:ref>/propose/", views.ObjectiveActionView.as_view(action="propose"), name="objective_propose"),
    path("<slug:ref>/sign-off/", views.ObjectiveActionView.as_view(action="sign-off"), name="objective_sign_off"),
    path("<slug:ref>/achieve/", views.ObjectiveActionView.as_view(action="achieve"), name="objective_achieve"),
    path("<slug:ref>/retire/", views.ObjectiveActionView.as_view(action="retire"), name="objective_retire"),
]
