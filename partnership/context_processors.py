from django.apps import apps
from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.functional import cached_property
from django_scopes import scopes_disabled

from .models import Membership, Role


class CommentReviewNav:
    """The layout's link to the comment review page (issue #23), for reviewers only.

    `pending` is None for members who are not comment reviewers (administrators, or members an
    administrator named), else how many flagged comments wait. Evaluated only when the layout
    asks, in one query at most. The review models belong to surveys; partnership imports no
    other app, so they are looked up by name."""

    def __init__(self, membership):
        self.membership = membership

    @cached_property
    def pending(self):
        membership = self.membership
        if membership is None or not membership.is_active:
            return None
        review_model = apps.get_model("surveys", "CommentReview")
        with scopes_disabled():
            waiting = review_model.objects.filter(trust_id=membership.trust_id, decision="pending")
            if membership.role == Role.ADMINISTRATOR:
                return waiting.count()
            count = (
                waiting.filter(trust_id=OuterRef("trust_id"))
                .order_by()
                .values("trust_id")
                .annotate(n=Count("pk"))
                .values("n")
            )
            rows = (
                Membership.objects.filter(pk=membership.pk, comment_reviewer__isnull=False)
                .annotate(pending=Coalesce(Subquery(count, output_field=IntegerField()), Value(0)))
                .values_list("pending", flat=True)
            )
            return next(iter(rows), None)


def site(request):
    """The trust and membership of the current page (set by TrustScopedMixin) for the layout."""
    membership = getattr(request, "membership", None)
    return {
        "brand_name": "Common Ground",
        "current_trust": getattr(request, "trust", None),
        "current_membership": membership,
        "comment_review_nav": CommentReviewNav(membership),
        "debug": settings.DEBUG,
    }
