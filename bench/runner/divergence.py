"""One trust's divergence results for one round: the app's `round_analysis` against the floor,
the grouped COUNT of `_score_rows` (the query every result is computed from) run bare through
psycopg with the same SQL and parameters."""

import time

from . import Row, median, ms, ratio, say, times

RUNS = 50


def score_rows_sql(round_):
    """(sql, params) of the grouped COUNT query round_analysis runs for `round_` (the same
    rounds: the history window ending with it), compiled by Django for this database."""
    from django.db import connection
    from django.db.models import Count

    from surveys.analysis import HISTORY_PERIODS
    from surveys.models import Rating, RatingRound

    round_ids = list(
        RatingRound.objects.filter(trust_id=round_.trust_id, period__lte=round_.period)
        .order_by("-period")
        .values_list("pk", flat=True)[:HISTORY_PERIODS]
    )
    # The queryset of surveys.analysis._score_rows, compiled, not run.
    counted = (
        Rating.objects.filter(round_id__in=round_ids)
        .values("round_id", "objective_id", "professional_group", "level", "score")
        .annotate(n=Count("id"))
        .order_by()
    )
    sql, params = counted.query.get_compiler(connection=connection).as_sql()
    return sql, params, len(round_ids)


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
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_scopes import scope

    from surveys.analysis import round_analysis
    from surveys.models import Rating

    say(f"Divergence: {trust.code} {round_.slug}, {runs} runs each")
    with scope(trust=trust):
        ratings = Rating.objects.filter(round=round_).count()
        sql, params, rounds = score_rows_sql(round_)
        with CaptureQueriesContext(connection) as queries:
            analysis = round_analysis(round_)
        app = timed(lambda: round_analysis(round_), runs)
    if not any(sql.split(" FROM ")[0] in q["sql"] for q in queries.captured_queries):
        raise RuntimeError("round_analysis no longer runs the grouped COUNT this benchmark copies")

    with psycopg.connect(database_url) as conn:
        rows = len(conn.execute(sql, params).fetchall())
        floor = timed(lambda: conn.execute(sql, params).fetchall(), runs)

    app_s, floor_s = median(app), median(floor)
    return [
        Row(
            f"divergence: {trust.code} {round_.slug}",
            f"round_analysis, median of {runs}",
            ms(app_s),
            ms(floor_s),
            times(ratio(app_s, floor_s)),
            f"baseline: the grouped COUNT alone through psycopg ({rows} groups from {rounds} rounds); "
            f"{ratings:,} ratings this round, {len(analysis.results)} objectives, "
            f"{len(queries.captured_queries)} queries",
        )
    ]
