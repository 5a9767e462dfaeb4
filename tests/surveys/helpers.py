"""Small builders shared by the surveys tests."""

from django_scopes import scopes_disabled

from surveys.models import Rating


def anonymous_ratings(round_, objective, group, level, scores):
    """One stored rating per score (None: can't judge) from anonymous raters (rater erased) of
    `group`/`level`, as the aggregates see them; one INSERT."""
    with scopes_disabled():
        Rating.objects.bulk_create(
            Rating(
                trust=round_.trust,
                round=round_,
                objective=objective,
                rater=None,
                score=score,
                professional_group=group,
                level=level,
            )
            for score in scores
        )


def stored_rating(round_, objective, member, score, comment=""):
    """One rating by `member` stored directly, its snapshot copied from the membership as
    ratings_save does (no screening, no other side effect); one INSERT."""
    with scopes_disabled():
        return Rating.objects.create(
            trust=round_.trust,
            round=round_,
            objective=objective,
            rater=member,
            score=score,
            comment=comment,
            professional_group=member.professional_group,
            level=member.level,
            directorate=member.directorate,
        )
