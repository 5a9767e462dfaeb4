"""Admin for rounds, and for ratings WITHOUT who gave them.

Ratings and pulse answers are listed for superusers only (debugging, erasure requests), and
even then the rater is neither listed, shown on the form nor searchable: nobody, admin
included, sees an individual's rating next to their name.
"""

from django.contrib import admin

from .models import PulseResponse, Rating, RatingRound


@admin.register(RatingRound)
class RatingRoundAdmin(admin.ModelAdmin):
    list_display = ["trust", "period", "opens_on", "closes_on", "status"]
    list_filter = ["trust"]
    date_hierarchy = "period"


class AnonymousAnswerAdmin(admin.ModelAdmin):
    list_filter = ["trust", "professional_group", "level"]
    list_select_related = ["trust", "round"]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    has_view_permission = has_change_permission = has_delete_permission = lambda self, request, obj=None: (
        request.user.is_active and request.user.is_superuser
    )

    def has_add_permission(self, request):
        return False  # answers come from raters and imports only

    # Times are left out too: matched against sign-in times they could point to the rater.
    exclude = ["rater", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields if field.name not in self.exclude]


@admin.register(Rating)
class RatingAdmin(AnonymousAnswerAdmin):
    list_display = ["round", "objective", "professional_group", "level", "score"]


@admin.register(PulseResponse)
class PulseResponseAdmin(AnonymousAnswerAdmin):
    list_display = ["round", "professional_group", "level", "quality", "outlook", "category"]
