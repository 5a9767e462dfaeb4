from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Directorate, Invitation, Membership, Trust, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "date_joined"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["full_name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]})]


class DirectorateInline(admin.TabularInline):
    model = Directorate
    extra = 0


@admin.register(Trust)
class TrustAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "min_group_size", "timezone", "created_at"]
    search_fields = ["code", "name"]
    inlines = [DirectorateInline]

    def get_readonly_fields(self, request, obj=None):
        # Changed on the trust's Settings page, whose rules (never lower the minimum group size
        # once people have answered) the admin would bypass.
        return ["min_group_size", "watch_gap", "divergent_gap", "q_threshold"] if obj else []


@admin.register(Directorate)
class DirectorateAdmin(admin.ModelAdmin):
    list_display = ["name", "trust"]
    list_filter = ["trust"]
    search_fields = ["name"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "trust",
        "role",
        "professional_group",
        "level",
        "directorate",
        "receives_board_report",
        "is_active",
    ]
    list_filter = ["trust", "role", "professional_group", "level", "is_active"]
    search_fields = ["user__email", "user__full_name"]
    list_select_related = ["user", "trust", "directorate"]
    autocomplete_fields = ["user"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["membership", "trust", "status", "created_at", "sent_at", "expires_at", "accepted_at"]
    list_filter = ["status", "trust"]
    list_select_related = ["membership__user", "membership__trust", "trust"]
    readonly_fields = ["created_at", "sent_at", "accepted_at"]
    raw_id_fields = ["membership", "invited_by"]


# --- Erasure (issue #8 item 4): an action on people, for superusers, with a confirmation page.
from django.contrib import messages  # noqa: E402
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME  # noqa: E402
from django.template import engines  # noqa: E402
from django.template.response import TemplateResponse  # noqa: E402

from .services.privacy import counts_summary, is_erased, person_erase  # noqa: E402

ERASE_CONFIRMATION = """{% extends "admin/base_site.html" %}
{% block content %}
<p>Erase these people? Their name and email are replaced by a placeholder, their account is
closed, their ratings and pulse answers are unlinked from them and their comments blanked,
their invitations and reminder logs deleted. Their anonymous scores stay in the results.
This cannot be undone.</p>
<ul>{% for person in people %}
<li>{{ person.email }}{% if person.full_name %} ({{ person.full_name }}){% endif %}</li>
{% endfor %}</ul>
<form method="post">{% csrf_token %}
{% for person in people %}<input type="hidden" name="{{ action_checkbox_name }}" value="{{ person.pk }}">{% endfor %}
<input type="hidden" name="action" value="erase_people">
<input type="hidden" name="post" value="yes">
<input type="submit" value="Yes, erase them">
<a href="{{ changelist_url }}" class="button cancel-link">No, take me back</a>
</form>
{% endblock %}
"""


@admin.action(permissions=["erase"], description="Erase selected people (keep their anonymous scores)")
def erase_people(modeladmin, request, queryset):
    people = [user for user in queryset.order_by("email") if not is_erased(user) and user.pk != request.user.pk]
    if any(user.pk == request.user.pk for user in queryset):
        modeladmin.message_user(request, "You cannot erase yourself; you were left out.", messages.WARNING)
    if not people:
        modeladmin.message_user(request, "Nobody to erase.", messages.WARNING)
        return None
    if request.POST.get("post") != "yes":
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": "Erase people",
            "opts": modeladmin.model._meta,
            "people": people,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "changelist_url": request.get_full_path(),
        }
        return TemplateResponse(request, engines["django"].from_string(ERASE_CONFIRMATION), context)
    for user in people:
        user, counts = person_erase(user=user)
        modeladmin.log_change(request, user, f"Erased: {counts_summary(counts)}")
    modeladmin.message_user(request, f"Erased {len(people)} {'person' if len(people) == 1 else 'people'}.")
    return None


def _has_erase_permission(self, request):
    return request.user.is_active and request.user.is_superuser


UserAdmin.has_erase_permission = _has_erase_permission
UserAdmin.actions = [*(UserAdmin.actions or []), erase_people]
