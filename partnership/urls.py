from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import importers, views
from .forms import EmailAuthenticationForm, SitePasswordResetForm
from .import_views import CsvImportConfirmView, CsvImportView

trust_patterns = [
    path("", views.TrustHomeView.as_view(), name="trust_home"),
    path("objectives/", include("objectives.urls")),
    path("", include("surveys.urls")),
    path("people/", views.PeopleListView.as_view(), name="people_list"),
    path("people/invite/", views.PersonInviteView.as_view(), name="person_invite"),
    path("people/<int:membership_id>/invite/", views.PersonReinviteView.as_view(), name="person_reinvite"),
    path(
        "people/import/",
        CsvImportView.as_view(importer=importers.PEOPLE, required_action="people.import"),
        name="people_import",
    ),
    path(
        "people/import/confirm/",
        CsvImportConfirmView.as_view(importer=importers.PEOPLE, required_action="people.import"),
        name="people_import_confirm",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm, redirect_authenticated_user=True),
        name="login",
    ),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=SitePasswordResetForm),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("invitations/<str:token>/", views.InvitationAcceptView.as_view(), name="invitation_accept"),
    path("trusts/<str:trust_code>/", include(trust_patterns)),
    path("admin/", admin.site.urls),
]

# The signed-in person's own data (issue #8 item 4): the page and its JSON download.
from . import privacy_views  # noqa: E402

urlpatterns += [path("accounts/my-data/", privacy_views.my_data, name="my_data")]
