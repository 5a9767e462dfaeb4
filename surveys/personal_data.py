"""Surveys' part of a person's data (found by partnership.services.privacy, which may not
import this app): their ratings, pulse answers, reminders and board-report deliveries.

Erasure and retention keep every score, pulse answer and group snapshot, so the aggregates
do not change; only the link to the person (and a comment's wording, which can identify its
author) goes.
"""

from django.db.models import Q

from partnership.services.privacy import erased_email

from .models import OutboxStatus, PulseResponse, Rating, ReminderLog, ReportDelivery


def _when(value):
    return value.isoformat() if value else None


def export(user):
    ratings = (
        Rating.objects.filter(rater__user=user)
        .select_related("trust", "round", "objective", "directorate")
        .order_by("trust__code", "round__period", "objective__ref")
    )
    pulses = (
        PulseResponse.objects.filter(rater__user=user)
        .select_related("trust", "round", "directorate")
        .order_by("trust__code", "round__period")
    )
    reminders = (
        ReminderLog.objects.filter(membership__user=user)
        .select_related("trust", "round")
        .order_by("trust__code", "round__period", "created_at")
    )
    deliveries = (
        ReportDelivery.objects.filter(Q(membership__user=user) | Q(email__iexact=user.email))
        .select_related("trust", "report")
        .order_by("trust__code", "report__period")
    )
    return {
        "ratings": [
            {
                "trust_code": r.trust.code,
                "period": r.round.slug,
                "objective_ref": r.objective.ref,
                "objective_title": r.objective.title,
                "score": r.score,
                "comment": r.comment,
                "professional_group": r.professional_group,
                "level": r.level,
                "directorate": r.directorate.name if r.directorate else None,
                "created_at": _when(r.created_at),
                "updated_at": _when(r.updated_at),
            }
            for r in ratings
        ],
        "pulse_answers": [
            {
                "trust_code": p.trust.code,
                "period": p.round.slug,
                "quality": p.quality,
                "outlook": p.outlook,
                "category": p.category,
                "statements": p.statements,
                "professional_group": p.professional_group,
                "level": p.level,
                "directorate": p.directorate.name if p.directorate else None,
                "created_at": _when(p.created_at),
                "updated_at": _when(p.updated_at),
            }
            for p in pulses
        ],
        "reminders": [
            {
                "trust_code": r.trust.code,
                "period": r.round.slug,
                "kind": r.kind,
                "status": r.status,
                "sent_at": _when(r.sent_at),
            }
            for r in reminders
        ],
        "board_report_deliveries": [
            {
                "trust_code": d.trust.code,
                "period": d.report.slug,
                "email": d.email,
                "status": d.status,
                "sent_at": _when(d.sent_at),
            }
            for d in deliveries
        ],
    }


def erase(user):
    """Unlink the person's answers (blanking their comments), delete their reminder logs, put
    the placeholder address on their report deliveries. Runs before the person's own email is
    replaced, so deliveries to that address are found even without a membership."""
    ratings = Rating.objects.filter(rater__user=user)
    counts = {
        "comments_blanked": ratings.exclude(comment="").count(),
        "ratings_unlinked": ratings.update(rater=None, comment=""),
        "pulse_answers_unlinked": PulseResponse.objects.filter(rater__user=user).update(rater=None),
        "reminders_deleted": ReminderLog.objects.filter(membership__user=user).delete()[0],
    }
    placeholder = erased_email(user)
    deliveries = ReportDelivery.objects.filter(Q(membership__user=user) | Q(email__iexact=user.email)).exclude(
        email=placeholder
    )
    done_reports = set(ReportDelivery.objects.filter(email=placeholder).values_list("report_id", flat=True))
    changed = 0
    for delivery in deliveries.order_by("report_id", "pk"):
        if delivery.report_id in done_reports:  # one row per report and address: a second is dropped
            delivery.delete()
        else:
            delivery.email, delivery.last_error = placeholder, ""
            if delivery.status in (OutboxStatus.PENDING, OutboxStatus.FAILED):
                delivery.status = OutboxStatus.CANCELLED
            delivery.save(update_fields=["email", "last_error", "status"])
            done_reports.add(delivery.report_id)
        changed += 1
    counts["report_deliveries_anonymised"] = changed
    return counts


def purge(cutoff):
    """Retention: answers last changed before `cutoff` lose their rater and comment (score and
    snapshot stay); reminder logs and report deliveries created before it are deleted."""
    return {
        "ratings_unlinked": Rating.objects.filter(updated_at__lt=cutoff)
        .filter(Q(rater__isnull=False) | ~Q(comment=""))
        .update(rater=None, comment=""),
        "pulse_answers_unlinked": PulseResponse.objects.filter(updated_at__lt=cutoff, rater__isnull=False).update(
            rater=None
        ),
        "reminders_deleted": ReminderLog.objects.filter(created_at__lt=cutoff).delete()[0],
        "report_deliveries_deleted": ReportDelivery.objects.filter(created_at__lt=cutoff).delete()[0],
    }
