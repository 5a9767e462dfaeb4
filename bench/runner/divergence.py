"""One trust's divergence results for one round: the app's `round_analysis` against the floor,
the grouped COUNT of `_score_rows` (the query every result is computed from) run bare through
psycopg with the same SQL and parameters."""

import time

from . import Row, median, ms, ratio, say, times

RUNS = 50


def score_rows_sql(round_ids):
    """(sql, params) of the grouped COUNT query of surveys.analysis._score_rows for these rounds,
    compiled by Django for this database (the query every result is computed from)."""
    from django.db import connection
    from django.db.models import Count

    from surveys.models import Rating

    counted = (
        Rating.objects.filter(round_id__in=round_ids)
        .values("round_id", "objective_id", "professional_group", "level", "score")
        .annotate(n=Count("id"))
        .order_by()
    )
    return counted.query.get_compiler(connection=connection).as_sql()


def timed(function, runs=RUNS):
    """Seconds of each of `runs` calls."""
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return seconds


def run(*, database_url, trust, round_, runs=RUNS):
    import psycopg
    from django.core.cache import cache
    from django_scopes import scope

    from surveys.analysis import HISTORY_PERIODS, round_analysis, round_results_by_round, thresholds_of
    from surveys.models import Rating, RatingRound

    say(f"Divergence: {trust.code} {round_.slug}, {runs} runs each")
    thresholds = thresholds_of(trust)
    with scope(trust=trust):
        ratings = Rating.objects.filter(round=round_).count()
        window = list(
            RatingRound.objects.filter(trust_id=trust.pk, period__lte=round_.period).order_by("-period")[
                :HISTORY_PERIODS
            ]
        )

        def one_round_cold():
            cache.clear()
            return round_results_by_round([round_], thresholds)

        def dashboard_cold():
            cache.clear()
            return round_analysis(round_)

        one = timed(one_round_cold, runs)
        cold = timed(dashboard_cold, max(5, runs // 5))
        round_analysis(round_)
        warm = timed(lambda: round_analysis(round_), runs)
        one_sql, one_params = score_rows_sql([round_.pk])
        window_sql, window_params = score_rows_sql([r.pk for r in window])
    with psycopg.connect(database_url) as conn:
        groups = len(conn.execute(one_sql, one_params).fetchall())
        floor = timed(lambda: conn.execute(one_sql, one_params).fetchall(), runs)
        window_floor = timed(lambda: conn.execute(window_sql, window_params).fetchall(), runs)

    label = f"divergence: {trust.code} {round_.slug}"
    note = f"{ratings:,} ratings this round, {groups} groups"
    return [
        Row(
            label,
            f"one round, cold cache, median of {runs}",
            ms(median(one)),
            ms(median(floor)),
            times(ratio(median(one), median(floor))),
            f"baseline: its grouped COUNT alone through psycopg; {note}",
        ),
        Row(
            label,
            "dashboard analysis (12 months), cold cache",
            ms(median(cold)),
            ms(median(window_floor)),
            times(ratio(median(cold), median(window_floor))),
            f"baseline: the {len(window)}-round grouped COUNT",
        ),
        Row(
            label,
            "dashboard analysis (12 months), warm cache",
            ms(median(warm)),
            ms(median(window_floor)),
            times(ratio(median(warm), median(window_floor))),
            "per-round results reused; versions checked",
        ),
    ]
