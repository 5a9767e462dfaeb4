"""The signed-in person's own data (issue #8 item 4): a page saying what is held, and the
JSON download of all of it. Only ever the signed-in person's own data: the page takes no
identifier, so there is nothing to change to see someone else's."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .services.privacy import person_export, person_export_json

DOWNLOAD_NAME = "common-ground-my-data-{:%Y-%m-%d}.json"
SECTION_LABELS = {
    "memberships": "Trust memberships",
    "invitations": "Invitations",
    "ratings": "Your ratings (with your comments)",
    "pulse_answers": "Your relationship pulse answers",
    "sign_offs": "Objectives you signed off",
    "sign_off_requests": "Sign-off requests sent to you",
    "objective_roles": "Objectives you lead, proposed or wrote",
    "objective_changes": "Changes you made to objectives",
    "reminders": "Reminder emails",
    "board_report_deliveries": "Board reports emailed to you",
}


@never_cache
@require_GET
@login_required
def my_data(request):
    """GET: the page; GET ?format=json: the download (attachment, never cached)."""
    now = timezone.now()
    if request.GET.get("format") == "json":
        response = HttpResponse(person_export_json(user=request.user, now=now), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{DOWNLOAD_NAME.format(timezone.localdate(now))}"'
        return response
    data = person_export(user=request.user, now=now)
    sections = [
        (SECTION_LABELS.get(name, name.replace("_", " ").capitalize()), len(content))
        for name, content in data.items()
        if isinstance(content, list)
    ]
    return render(request, "partnership/my_data.html", {"profile": data["profile"], "sections": sections})
