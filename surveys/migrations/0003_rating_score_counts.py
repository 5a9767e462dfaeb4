# Issue #7 ("make it fast"): a covering index for the divergence analysis.
#
# The query it serves is surveys.analysis._score_rows, run for every dashboard, objective page,
# CSV and report of a round:
#
#     SELECT round_id, objective_id, professional_group, level, score, COUNT(*)
#     FROM surveys_rating
#     WHERE trust_id = %s                -- added by the trust scope (django-scopes)
#       AND round_id IN (%s, ...)        -- the round, or the rounds of its 12-month history
#     GROUP BY round_id, objective_id, professional_group, level, score
#
# With this index PostgreSQL answers it from the index alone (Index Only Scan, no heap pages)
# and already in GROUP BY order (GroupAggregate, no sort, no hash table). The columns:
#
# - round_id first: the equality / IN (...) that picks the few thousand rows of a round.
# - objective_id, professional_group, level, score next, in the GROUP BY order, so the rows come
#   out grouped and every column the query returns is in the index (nothing read from the table).
# - trust_id last: the trust scope adds `trust_id = X` to every query; as a key column it is checked
#   inside the index, so the scan stays index-only. It is a key column rather than INCLUDE (...)
#   on purpose: B-tree deduplication only works on indexes without INCLUDE columns, and a round's
#   ~3,000 ratings have only ~300 distinct keys, so with deduplication the index is about 15 MB
#   per million ratings instead of 80 MB. A round belongs to one trust, so trust_id after round_id
#   changes neither the order nor the grouping.
#
# The count must be COUNT(*) (Django: Count("*")) for the scan to stay index-only: COUNT(id) reads
# the id of every row from the table. id is never NULL, so the two counts are equal.
#
# An index-only scan skips the table only for pages marked all-visible by VACUUM; autovacuum does
# that after large inserts (and an import of past ratings can be followed by VACUUM ANALYZE).
#
# rating_round_objective (round_id, objective_id) is dropped: this index begins with the same two
# columns and serves every query it served (e.g. a round's comments on one objective), as does the
# unique constraint (round_id, objective_id, rater_id), which stays. The new index is built before
# the old one is dropped. On PostgreSQL the build takes about a second per million ratings, with
# writes to surveys_rating waiting meanwhile (reads go on).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0002_reminders_and_reports"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="rating",
            index=models.Index(
                fields=["round", "objective", "professional_group", "level", "score", "trust"],
                name="rating_score_counts",
            ),
        ),
        migrations.RemoveIndex(
            model_name="rating",
            name="rating_round_objective",
        ),
    ]
