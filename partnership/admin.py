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
