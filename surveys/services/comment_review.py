"""The comment safety review (issue #23, DESIGN.md §5): flagged comments are quarantined.

When a comment is saved (the rating page, either import path) `comment_screen` runs the pure
detector (`surveys.comment_detector`) with the trust's members' names and directorate names. A
flagged comment gets a pending `CommentReview`; a comment that is no longer flagged loses it. A
comment re-saved unchanged keeps its review and decision; a changed one is reviewed afresh.

While a review is pending or withheld the comment is shown nowhere: every output takes a
comment's text from `comment_text_for_board` (or filters as `analysis.objective_comments`
does). Reviewers are the trust's administrators and the members an administrator names; they
decide publish, redact (the found spans replaced by "[removed]") or withhold. The comment itself
is never edited; who decided what, and when, is kept on the review.
"""

import hashlib
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from partnership.models import Directorate, Membership, Role, Trust

from ..comment_detector import Detector, Finding, redact, warning_messages
from ..models import CommentDecision, CommentReview, CommentReviewer, Rating
from .frozen import round_ensure_not_reported

SCREEN_BATCH = 1000


def text_digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


def detector_for(trust):
    """The detector for `trust`: its members' names (past members too) and its directorates."""
    with scope(trust=trust):
        names = set()
        for full_name, invited_name in Membership.objects.filter(trust=trust).values_list(
            "user__full_name", "invited_name"
        ):
            names.update(name for name in (full_name, invited_name) if name and name.strip())
        directorates = list(Directorate.objects.filter(trust=trust).values_list("name", flat=True))
    return Detector(member_names=sorted(names), directorate_names=directorates, today=timezone.localdate())


def findings_of(review):
    """The stored spans of `review` as detector findings (their text is not stored)."""
    return [Finding(f["kind"], f["start"], f["end"], "") for f in review.found]


def review_warnings(review):
    """The plain warnings for the rater: one sentence per kind found."""
    return warning_messages(findings_of(review)) if review is not None else []


def _review_of(rating):
    """The rating's review or None (no query when `comment_review` was selected with it)."""
    try:
        return rating.comment_review
    except CommentReview.DoesNotExist:
        return None


def comment_screen(*, rating, detector=None):
    """Create, update or delete the review of `rating`'s comment; returns the review or None."""
    existing = _review_of(rating)
    text = rating.comment
    if not text:
        if existing is not None:
            existing.delete()
        return None
    digest = text_digest(text)
    if existing is not None and existing.text_digest == digest:
        return existing  # re-saved unchanged: the decision stands
    detector = detector or detector_for(rating.trust)
    found = [{"kind": f.kind, "start": f.start, "end": f.end} for f in detector.find(text)]
    if not found:
        if existing is not None:
            existing.delete()
        return None
    review = existing or CommentReview(trust_id=rating.trust_id, rating=rating)
    review.found, review.text_digest, review.created_at = found, digest, timezone.now()
    review.decision, review.decided_by, review.decided_by_name, review.decided_at = (
        CommentDecision.PENDING,
        None,
        "",
        None,
    )
    review.save()
    rating.comment_review = review
    return review


def comments_screen(*, trust, ratings):
    """Screen each of `ratings` (best with `comment_review` selected) with one detector;
    returns {rating id: review or None}."""
    detector = None
    reviews = {}
    for rating in ratings:
        if rating.comment and detector is None:
            detector = detector_for(trust)
        reviews[rating.pk] = comment_screen(rating=rating, detector=detector)
    return reviews


def comments_screen_rounds(*, trust, round_ids, written_at):
    """After an import into `round_ids`: screen the comments it wrote (the ratings it created or
    changed carry `updated_at = written_at`), dropping the reviews of comments it blanked. One
    query finds them, bounded by the rows written; returns how many were screened."""
    with scope(trust=trust):
        candidates = (
            Rating.objects.filter(trust=trust, round_id__in=list(round_ids), updated_at=written_at)
            .filter(~Q(comment="") | Q(comment_review__isnull=False))
            .select_related("comment_review")
            .order_by("pk")
        )
        detector = detector_for(trust)
        screened = 0
        for rating in candidates.iterator(chunk_size=SCREEN_BATCH):
            comment_screen(rating=rating, detector=detector)
            screened += 1
    return screened


def is_comment_reviewer(membership):
    """Administrators always; other active members when an administrator has named them."""
    if membership is None or not membership.is_active:
        return False
    if membership.role == Role.ADMINISTRATOR:
        return True
    with scope(trust=membership.trust_id):
        return CommentReviewer.objects.filter(membership=membership).exists()


def review_decide(*, review, by, decision, now=None):
    """Record `by`'s decision on `review`; the comment is never edited."""
    if not is_comment_reviewer(by) or by.trust_id != review.trust_id:
        raise PermissionDenied("Only comment reviewers of this trust may decide.")
    if decision not in (CommentDecision.PUBLISH, CommentDecision.REDACT, CommentDecision.WITHHOLD):
        raise ValidationError("Unknown decision.")
    round_ensure_not_reported(review.rating.round, doing="reviewed")  # its comments are frozen with it
    review.decision = decision
    review.decided_by = by
    review.decided_by_name = by.user.full_name or by.user.email
    review.decided_at = now or timezone.now()
    review.save(update_fields=["decision", "decided_by", "decided_by_name", "decided_at"])
    return review


def reviewer_set(*, trust, by, membership, named):
    """An administrator names (`named=True`) or unnames a member as a comment reviewer."""
    if by.role != Role.ADMINISTRATOR or by.trust_id != trust.pk or membership.trust_id != trust.pk:
        raise PermissionDenied("Only administrators of this trust name comment reviewers.")
    with scope(trust=trust), transaction.atomic():
        if named:
            CommentReviewer.objects.get_or_create(
                trust=trust, membership=membership, defaults={"named_by_name": by.user.full_name}
            )
        else:
            CommentReviewer.objects.filter(trust=trust, membership=membership).delete()


def comment_text_for_board(rating, review):
    """How `rating`'s comment may be shown: None while pending or withheld, as written when
    published or never flagged, with the found spans removed when redacted."""
    if review is None:
        return rating.comment or None
    if review.decision == CommentDecision.PUBLISH:
        return rating.comment
    if review.decision == CommentDecision.REDACT:
        return redact(rating.comment, findings_of(review))
    return None


def redacted_text(text, found):
    """`text` with the stored spans `found` replaced (for the objective page)."""
    return redact(text, [Finding(f["kind"], f["start"], f["end"], "") for f in found])


def retention_cutoff(today, months):
    """The first month kept: rounds of earlier months lose their comments."""
    index = today.year * 12 + (today.month - 1) - months
    return date(index // 12, index % 12 + 1, 1)


def comments_purge(*, now=None, trust=None, months=None):
    """Retention (issue #23): erase the comment text, and the reviews, of ratings in rounds whose
    month is more than `months` before this month (default: each trust's
    `comment_retention_months`). Scores, ratings and every aggregate stay; so do board reports
    (their snapshots hold no comments). Idempotent. `trust` limits it to one trust.

    Returns one entry per cutoff, oldest first: {"cutoff", "trusts" [codes], "erased", "reviews"}."""
    today = timezone.localdate(now or timezone.now())
    trusts = Trust.objects.filter(pk=trust.pk) if trust is not None else Trust.objects.all()
    by_cutoff = {}
    for pk, code, kept in trusts.order_by("code").values_list("pk", "code", "comment_retention_months"):
        by_cutoff.setdefault(retention_cutoff(today, months or kept), []).append((pk, code))
    results = []
    for cutoff, members in sorted(by_cutoff.items()):
        with scopes_disabled(), transaction.atomic():
            ratings = Rating.objects.filter(trust_id__in=[pk for pk, _ in members], round__period__lt=cutoff)
            reviews, _ = CommentReview.objects.filter(rating__in=ratings.values("pk")).delete()
            erased = ratings.exclude(comment="").update(comment="")
        results.append(
            {"cutoff": cutoff, "trusts": [code for _, code in members], "erased": erased, "reviews": reviews}
        )
    return results
