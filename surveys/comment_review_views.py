"""The comment review page (issue #23): reviewers see the flagged comments waiting, what was
found and the objective (never the writer, their group, directorate or a date) and decide;
administrators also see the decisions log and name or unname reviewers. Thin: the service
(services/comment_review.py) decides who may do what."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import TemplateView

from partnership.models import Membership, Role
from partnership.scoping import TrustScopedMixin

from .comment_detector import KINDS
from .models import CommentDecision, CommentReview, CommentReviewer
from .services.comment_review import is_comment_reviewer, redacted_text, review_decide, reviewer_set

KIND_LABELS = {
    "nhs_number": "NHS number",
    "email": "email address",
    "phone": "phone, extension or bleep number",
    "postcode": "postcode",
    "date_of_birth": "date of birth",
    "member_name": "a member's name",
    "self_identifying": "may identify the writer",
}
DECISIONS = {
    "publish": CommentDecision.PUBLISH,
    "redact": CommentDecision.REDACT,
    "withhold": CommentDecision.WITHHOLD,
}
LOG_SHOWN = 200


def segments(text, found):
    """The comment cut into (text, kind label or None) pieces, found spans marked."""
    pieces, position = [], 0
    for span in sorted(found, key=lambda f: f["start"]):
        start, end = span["start"], span["end"]
        if not 0 <= position <= start < end <= len(text):
            continue
        pieces.append((text[position:start], None))
        pieces.append((text[start:end], KIND_LABELS.get(span["kind"], span["kind"])))
        position = end
    pieces.append((text[position:], None))
    return [(piece, label) for piece, label in pieces if piece]


if set(KIND_LABELS) != set(KINDS):  # a detector kind without a label would show its code name
    raise ImportError("KIND_LABELS must name every detector kind.")


class CommentReviewView(TrustScopedMixin, TemplateView):
    """GET: the queue (and, for administrators, the decisions log); POST: a decision. 403 for
    members who are not reviewers. Reviewers are named on their own page (CommentReviewersView)."""

    template_name = "surveys/comment_review.html"

    def dispatch_checked(self):
        if not is_comment_reviewer(self.membership):
            raise PermissionDenied("Only comment reviewers see this page.")

    def get(self, request, *args, **kwargs):
        self.dispatch_checked()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.dispatch_checked()
        if "decision" in request.POST:
            return self.decide(request)
        messages.error(request, "Nothing to do.")
        return redirect(request.path)

    def decide(self, request):
        decision = DECISIONS.get(request.POST["decision"])
        review = get_object_or_404(
            CommentReview.objects.select_related("rating__round"),
            pk=request.POST.get("review") or 0,
            trust=self.trust,
            decision=CommentDecision.PENDING,
        )
        if decision is None:
            messages.error(request, "Unknown decision.")
            return redirect(request.path)
        try:
            review_decide(review=review, by=self.membership, decision=decision)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Decision recorded: {review.get_decision_display().lower()}.")
        return redirect(request.path)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        pending = (
            CommentReview.objects.filter(trust=self.trust, decision=CommentDecision.PENDING)
            .filter(rating__round__report__isnull=True)  # a reported round's comments are frozen
            .select_related("rating__objective")
            .only("pk", "found", "rating__comment", "rating__objective__ref", "rating__objective__title")
            .order_by("rating__objective__ref", "pk")
        )
        context["pending"] = [
            {
                "review": review,
                "objective": review.rating.objective,
                "segments": segments(review.rating.comment, review.found),
                "kinds": sorted({KIND_LABELS.get(f["kind"], f["kind"]) for f in review.found}),
                "redacted": redacted_text(review.rating.comment, review.found),
            }
            for review in pending
        ]
        context["frozen_waiting"] = CommentReview.objects.filter(
            trust=self.trust, decision=CommentDecision.PENDING, rating__round__report__isnull=False
        ).count()
        is_admin = self.membership.role == Role.ADMINISTRATOR
        context["is_admin"] = is_admin
        if is_admin:
            context["log"] = list(
                CommentReview.objects.filter(trust=self.trust)
                .exclude(decision=CommentDecision.PENDING)
                .select_related("rating__objective")
                .only("decision", "decided_by_name", "decided_at", "rating__objective__ref")
                .order_by("-decided_at")[:LOG_SHOWN]
            )
        return context


class CommentReviewersView(TrustScopedMixin, TemplateView):
    """Administrators name or unname comment reviewers. A page of its own: no page shows members'
    names and comments together (tests/test_no_attribution.py)."""

    template_name = "surveys/comment_reviewers.html"

    def dispatch_checked(self):
        if self.membership.role != Role.ADMINISTRATOR:
            raise PermissionDenied("Only trust administrators name comment reviewers.")

    def get(self, request, *args, **kwargs):
        self.dispatch_checked()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.dispatch_checked()
        member = get_object_or_404(Membership.objects.active(), pk=request.POST.get("reviewer") or 0, trust=self.trust)
        named = request.POST.get("named") == "1"
        reviewer_set(trust=self.trust, by=self.membership, membership=member, named=named)
        messages.success(request, f"{member.display_name} is {'now' if named else 'no longer'} a comment reviewer.")
        return redirect(request.path)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        named = set(CommentReviewer.objects.filter(trust=self.trust).values_list("membership_id", flat=True))
        members = list(
            Membership.objects.active().filter(trust=self.trust).exclude(role=Role.ADMINISTRATOR).select_related("user")
        )
        context["reviewers"] = [m for m in members if m.pk in named]
        context["candidates"] = [m for m in members if m.pk not in named]
        return context
