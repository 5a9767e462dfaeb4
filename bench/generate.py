"""Generate a national benchmark dataset in PostgreSQL, fast: ratings and pulse responses go in by COPY.

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_bench \\
        .venv/bin/python bench/generate.py --reset

By default: 200 trusts (codes B001...) x 400 members x (8 trust-wide + 4 per directorate)
agreed objectives x 24 closed monthly rounds ending with last month's x 60% response: 13.4
million ratings and 1.1 million pulse responses. `--trusts 20` etc. scale it down.

The database is a throwaway one on DATABASE_URL's server, `cg_bench` by default, created if
missing and migrated (bench/import_ratings.py's helpers); `--reset` drops and recreates it
first. Trusts, directorates, people, objectives, sign-offs and rounds are small and go in with
bulk_create; ratings and pulse responses are written with psycopg's COPY (`write_row`, binary
format), one COPY per trust, progress on stderr. For a big run the non-unique indexes and the
foreign keys of those two tables are dropped for the COPY and restored after it: an index is
rebuilt by one sort, a key re-added checks every row in one join, instead of index updates and
a deferred trigger per row and key (`--keep-constraints` to compare). Primary keys and unique
constraints stay throughout. Then both tables are VACUUM ANALYZEd.

`--csv-rows N` also writes (streams) a CSV in the `import_ratings` format of N ratings that
are NOT in the database, for one trust (`--csv-trust`, B001 by default): every row valid and
entitled, so `manage.py import_ratings B001 FILE` benchmarks the happy path. With an existing
dataset and no `--reset`, generation is skipped and only the CSV is written.

Every bench user's password is `bench-password` (one hash, computed once); emails are
`t{trust:03d}.m{member:03d}@bench.nhs.uk`. See bench/README.md for who is who.

`generate()` is the library entry point: it runs against any Django connection (COPY on
PostgreSQL, bulk_create elsewhere), which is how tests/test_bench_generate.py runs it small.
"""

import argparse
import bisect
import csv
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench" / "data"
PASSWORD = "bench-password"
EMAIL = "t{trust:03d}.m{member:03d}@bench.nhs.uk"
TRUST_CODE = "B{trust:03d}"

# The four Davies groups (DESIGN.md §1) as shares of the people who rate.
SENIOR_CLINICAL, SENIOR_NONCLINICAL, OPERATIONAL_CLINICAL = 0.03, 0.04, 0.55  # the rest: operational non-clinical
ADMINISTRATOR_SHARE = 0.005  # administrators run the tool and do not rate; at least one per trust
BOARD_REPORT_SHARE = 0.10  # of board members (the medical director and chief executive always)
DIRECTORATES = [
    "Medicine",
    "Surgery",
    "Women and Children",
    "Emergency Care",
    "Clinical Support Services",
    "Community and Therapies",
]
# (theme, title, success measure). Trust-wide objectives, then four per directorate.
TRUST_WIDE = [
    ("devolved-decisions", "Clinical directors hold their directorates' budgets", "Budgets signed by each CD"),
    ("aligned-interests", "Joint quality impact assessment for every savings plan", "All plans signed by both leads"),
    ("dialogue", "A monthly doctor-manager leadership forum", "Ten forums a year, both sides attending"),
    ("clinical-focus", "No elective patient waits over 52 weeks", "Zero 52-week waiters"),
    ("seeking-challenge", "Clinical leads challenge every board paper", "A clinical response on each paper"),
    ("continuity", "Clinical director posts filled for their full term", "No post vacant over 3 months"),
    ("shared-environment", "One winter plan, read the same way by both sides", "Plan agreed by September"),
    ("learning-together", "Joint reviews of serious incidents within 60 days", "90% reviewed jointly in time"),
]
PER_DIRECTORATE = [
    ("local-innovation", "{d}: one new pathway piloted by its own team", "Pilot evaluated"),
    ("mutual-understanding", "{d}: clinicians and managers shadow each other", "Every lead shadowed for a day"),
    ("differences-as-asset", "{d}: job plans agreed by clinicians and managers together", "All job plans agreed"),
    ("clinical-focus", "{d}: theatre and clinic time used as planned", "Utilisation over 85%"),
]
# Mean score offset of each Davies group: senior managers most optimistic, operational clinicians least.
DAVIES_OFFSET = {"senior_clinical": 0.1, "senior_nonclinical": 0.3, "operational_clinical": -0.1}
DIVERGENT_GAP = 1.5  # clinicians rate the divergent objectives this much lower than managers
SCORE_SD, LENIENCY_SD = 0.8, 0.3  # per rating and per person
CANT_JUDGE, COMMENTED = 0.05, 0.03  # shares of ratings with a NULL score, and with a comment
COMMENTS = {
    "low": [
        "Decisions are still made without us.",
        "No visible change since last month.",
        "The plan exists on paper only.",
        "We raised this at the forum and heard nothing back.",
    ],
    "high": [
        "Good joint working this month.",
        "Both sides now meet weekly on this.",
        "On track; the data are shared openly.",
        "Real progress since the new lead started.",
    ],
}
# The pulse by Davies group, shaped on the 2002 survey (DESIGN.md §1): P(quality = 1..5) and
# P(outlook = improve, same, deteriorate). Senior non-clinical 76% good, operational clinical 37%.
PULSE_QUALITY = {
    "senior_nonclinical": (0.02, 0.06, 0.16, 0.50, 0.26),
    "senior_clinical": (0.04, 0.12, 0.26, 0.42, 0.16),
    "operational_nonclinical": (0.05, 0.15, 0.32, 0.36, 0.12),
    "operational_clinical": (0.10, 0.22, 0.31, 0.29, 0.08),
}
PULSE_OUTLOOK = {
    "senior_nonclinical": (0.78, 0.18, 0.04),
    "senior_clinical": (0.50, 0.35, 0.15),
    "operational_nonclinical": (0.40, 0.42, 0.18),
    "operational_clinical": (0.28, 0.46, 0.26),
}
CATEGORIES = ("unresolved", "tolerance", "tension", "partnership")  # worst to best
STATEMENT_SHARE = 0.4  # of pulse responses that also answer the statement bank
FIRST_NAMES = "Amira Ben Chloe Dev Ella Femi Grace Hamid Isla Jack Kavya Liam Maya Nia Omar Priya Ravi Sara Tom Zoe"
LAST_NAMES = "Ahmed Brown Chen Davies Evans Fisher Green Hughes Iqbal Jones Khan Lewis Morgan Patel Roberts Shah Taylor"
PLACES = "Ashby Brook Calder Dunmore Elmfield Fenwick Glenholm Harrow Ingham Kestle Linwood Marsh Norbury Oakham"
KINDS = ["Hospitals NHS Trust", "NHS Foundation Trust", "Teaching Hospitals NHS Trust"]
PROGRESS_EVERY = 200_000  # rows between progress lines
DEFER_CHECKS_ROWS = 1_000_000  # from this many ratings, rebuild indexes and check foreign keys after the COPY


@dataclass
class Generated:
    trusts: int = 0
    members: int = 0
    objectives: int = 0
    rounds: int = 0
    ratings: int = 0
    pulse_responses: int = 0
    seconds: float = 0.0  # all of it
    copy_seconds: float = 0.0  # writing ratings and pulse responses
    restore_seconds: float = 0.0  # rebuilding the indexes, adding the foreign keys back
    vacuum_seconds: float = 0.0  # VACUUM ANALYZE


@dataclass(frozen=True, slots=True)
class Person:
    role: str
    professional_group: str
    level: str
    directorate: int | None  # index into the trust's directorates

    @property
    def davies_group(self):
        side = "clinical" if self.professional_group == "clinical" else "nonclinical"
        return f"{'senior' if self.level == 'board' else 'operational'}_{side}"


def people_layout(members):
    """The roles of a trust's `members` people, in member-number order, and the number of directorates.

    m001 medical director, m002 chief executive, then the administrators, the other board members
    (clinical, then non-clinical), one clinical director per directorate, the directorate managers
    and the consultants (both spread round the directorates). Roles follow ROLE_RULES.
    """
    if members < 10:
        raise ValueError("A bench trust needs at least 10 members.")
    administrators = max(1, round(members * ADMINISTRATOR_SHARE))
    raters = members - administrators
    senior_clinical = max(1, round(raters * SENIOR_CLINICAL))
    senior_nonclinical = max(1, round(raters * SENIOR_NONCLINICAL))
    operational_clinical = round(raters * OPERATIONAL_CLINICAL)
    operational_nonclinical = raters - senior_clinical - senior_nonclinical - operational_clinical
    directorates = max(1, min(len(DIRECTORATES), operational_clinical, operational_nonclinical))
    return [
        Person("medical_director", "clinical", "board", None),
        Person("chief_executive", "managerial", "board", None),
        *[Person("administrator", "managerial", "operational", None)] * administrators,
        *[Person("board_member", "clinical", "board", None)] * (senior_clinical - 1),
        *[Person("board_member", "managerial", "board", None)] * (senior_nonclinical - 1),
        *[Person("clinical_director", "clinical", "operational", d) for d in range(directorates)],
        *[
            Person("directorate_manager", "managerial", "operational", n % directorates)
            for n in range(operational_nonclinical)
        ],
        *[
            Person("consultant", "clinical", "operational", n % directorates)
            for n in range(operational_clinical - directorates)
        ],
    ], directorates


def months_back(last, count):
    """The first days of `count` months ending with `last`'s month, oldest first."""
    year, month, periods = last.year, last.month, []
    for _ in range(count):
        periods.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return periods[::-1]


def _pick(rng, cumulative, values):
    return values[bisect.bisect(cumulative, rng.random() * cumulative[-1])]


def _cumulative(weights):
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _score(x):
    return 1 if x < 1.5 else 5 if x >= 4.5 else int(x + 0.5)


class _Writer:
    """Rows of one model into the database: COPY (binary, write_row) on PostgreSQL, else bulk_create."""

    BATCH = 5000

    def __init__(self, connection, model, columns):
        self.connection, self.model, self.columns = connection, model, columns
        fields = {field.column: field for field in model._meta.concrete_fields}
        self.types = [_PG_TYPES[type(fields[column]).__name__] for column in columns]
        self.names = [fields[column].attname for column in columns]

    def write(self, rows):
        """Write an iterable of row tuples; returns how many."""
        count = 0
        if self.connection.vendor == "postgresql":
            self.connection.ensure_connection()
            table = self.connection.ops.quote_name(self.model._meta.db_table)
            names = ", ".join(self.connection.ops.quote_name(column) for column in self.columns)
            with self.connection.connection.cursor() as cursor:
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(self.types)
                    for row in rows:
                        copy.write_row(row)
                        count += 1
            return count
        batch, manager = [], self.model.objects.using(self.connection.alias)
        for row in rows:
            batch.append(self.model(**dict(zip(self.names, row, strict=True))))
            if len(batch) == self.BATCH:
                manager.bulk_create(batch)
                count, batch = count + len(batch), []
        manager.bulk_create(batch)
        return count + len(batch)


_PG_TYPES = {
    "ForeignKey": "int8",
    "CharField": "varchar",
    "TextField": "text",
    "PositiveSmallIntegerField": "int2",
    "DateTimeField": "timestamptz",
    "JSONField": "jsonb",
}
RATING_COLUMNS = [
    "trust_id",
    "round_id",
    "objective_id",
    "rater_id",
    "professional_group",
    "level",
    "directorate_id",
    "score",
    "comment",
    "created_at",
    "updated_at",
]
PULSE_COLUMNS = [
    "trust_id",
    "round_id",
    "rater_id",
    "professional_group",
    "level",
    "directorate_id",
    "quality",
    "outlook",
    "category",
    "statements",
    "created_at",
    "updated_at",
]


class _Progress:
    def __init__(self, report, total_ratings, total_pulse):
        self.report, self.total_ratings, self.total_pulse = report, total_ratings, total_pulse
        self.ratings = self.pulse = self.last = 0
        self.started = time.perf_counter()

    def tick(self, ratings=0, pulse=0, final=False):
        self.ratings += ratings
        self.pulse += pulse
        if self.report and (final or self.ratings - self.last >= PROGRESS_EVERY):
            self.last = self.ratings
            rate = (self.ratings + self.pulse) / max(time.perf_counter() - self.started, 1e-9)
            self.report(
                f"ratings {self.ratings:,}/{self.total_ratings:,} ({rate:,.0f} rows/s), "
                f"pulse responses {self.pulse:,}/{self.total_pulse:,}"
            )


def _aware(day, hour=9, minute=0):
    """That local time (Europe/London), in UTC: a fixed offset costs COPY about half as much to dump."""
    from django.utils import timezone

    return timezone.make_aware(datetime.combine(day, clock(hour, minute))).astimezone(UTC)


def _structure(*, trusts, members, rounds, seed, today, alias):
    """Trusts, directorates, users, memberships, objectives (agreed, signed off) and rounds, by
    bulk_create. Returns per trust what the ratings need: [(trust, people, objectives, rounds)]."""
    from django.contrib.auth.hashers import make_password

    from objectives.models import Objective, SignOff
    from partnership.models import Directorate, Membership, Trust, User
    from surveys.models import RatingRound
    from surveys.services.rounds import round_dates

    layout, n_directorates = people_layout(members)
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    periods = months_back(last_month, rounds)
    password = make_password(PASSWORD)  # once: PBKDF2 is slow by design
    first_names, last_names, places = FIRST_NAMES.split(), LAST_NAMES.split(), PLACES.split()

    trust_rows = [
        Trust(
            code=TRUST_CODE.format(trust=n),
            name=f"{places[(n - 1) % len(places)]} {KINDS[(n - 1) // len(places) % len(KINDS)]} ({n:03d})",
        )
        for n in range(1, trusts + 1)
    ]
    Trust.objects.using(alias).bulk_create(trust_rows)
    directorate_rows = [Directorate(trust=t, name=DIRECTORATES[d]) for t in trust_rows for d in range(n_directorates)]
    Directorate.objects.using(alias).bulk_create(directorate_rows)
    directorates = [directorate_rows[i * n_directorates : (i + 1) * n_directorates] for i in range(trusts)]

    rngs = [random.Random(f"{seed}:{n}:people") for n in range(1, trusts + 1)]
    users = [
        User(
            email=EMAIL.format(trust=n + 1, member=m + 1),
            full_name=f"{rngs[n].choice(first_names)} {rngs[n].choice(last_names)}",
            password=password,
        )
        for n in range(trusts)
        for m in range(members)
    ]
    User.objects.using(alias).bulk_create(users, batch_size=5000)
    memberships = []
    for n, trust in enumerate(trust_rows):
        board = [m for m, person in enumerate(layout) if person.level == "board"]
        reporting = set(board[:2]) | set(rngs[n].sample(board[2:], max(0, round(len(board) * BOARD_REPORT_SHARE) - 2)))
        for m, person in enumerate(layout):
            memberships.append(
                Membership(
                    user=users[n * members + m],
                    trust=trust,
                    directorate=None if person.directorate is None else directorates[n][person.directorate],
                    professional_group=person.professional_group,
                    level=person.level,
                    role=person.role,
                    receives_board_report=m in reporting,
                )
            )
    Membership.objects.using(alias).bulk_create(memberships, batch_size=5000)

    agreed_on = periods[0] - timedelta(days=45)
    objective_rows, signoffs, specs = [], [], []
    for n, trust in enumerate(trust_rows):
        people = memberships[n * members : (n + 1) * members]
        rng = random.Random(f"{seed}:{n + 1}:objectives")
        board_clinical = [
            p for p, person in zip(people, layout, strict=True) if person.davies_group == "senior_clinical"
        ]
        board_managerial = [
            p for p, person in zip(people, layout, strict=True) if person.davies_group == "senior_nonclinical"
        ]
        leads = {}  # directorate index -> (clinical director, [directorate managers])
        for p, person in zip(people, layout, strict=True):
            if person.role == "clinical_director":
                leads.setdefault(person.directorate, [None, []])[0] = p
            elif person.role == "directorate_manager":
                leads.setdefault(person.directorate, [None, []])[1].append(p)
        plan = [(None, *spec) for spec in TRUST_WIDE]
        plan += [
            (d, theme, title.format(d=DIRECTORATES[d]), measure)
            for d in range(n_directorates)
            for theme, title, measure in PER_DIRECTORATE
        ]
        trust_specs = []
        for k, (d, theme, title, measure) in enumerate(plan, start=1):
            if d is None:
                clinical, managerial = rng.choice(board_clinical), rng.choice(board_managerial)
                signers = (people[0], people[1])  # the medical director and the chief executive
            else:
                clinical, managers = leads[d]
                managerial = rng.choice(managers)
                signers = (clinical, managerial)
            agreed_at = _aware(agreed_on - timedelta(days=rng.randrange(60)), 10 + rng.randrange(7))
            objective = Objective(
                trust=trust,
                ref=f"OBJ-{k:02d}",
                title=title,
                description=f"Agreed by the clinical and managerial leads of {trust.code}.",
                theme=theme,
                directorate=None if d is None else directorates[n][d],
                clinical_lead=clinical,
                managerial_lead=managerial,
                success_measure=measure,
                target_date=last_month + timedelta(days=365),
                status="agreed",
                created_by=people[0].user,
                proposed_by=people[0] if d is None else clinical,
                proposal_version=1,
                proposed_at=agreed_at - timedelta(days=14),
                agreed_at=agreed_at,
                created_at=agreed_at - timedelta(days=30),
            )
            objective_rows.append(objective)
            for side, signer, days in (("clinical", signers[0], 7), ("managerial", signers[1], 0)):
                signoffs.append(
                    SignOff(
                        trust=trust,
                        objective=objective,
                        side=side,
                        membership=signer,
                        signed_at=agreed_at - timedelta(days=days),
                    )
                )
            trust_specs.append((objective, d))
        specs.append(trust_specs)
    Objective.objects.using(alias).bulk_create(objective_rows, batch_size=5000)
    SignOff.objects.using(alias).bulk_create(signoffs, batch_size=5000)

    round_rows = []
    for trust in trust_rows:
        for period in periods:
            opens_on, closes_on = round_dates(trust, period)
            round_rows.append(
                RatingRound(
                    trust=trust, period=period, opens_on=opens_on, closes_on=closes_on, created_at=_aware(opens_on, 0)
                )
            )
    RatingRound.objects.using(alias).bulk_create(round_rows, batch_size=5000)
    return [
        (
            trust,
            list(zip(memberships[n * members : (n + 1) * members], layout, strict=True)),
            specs[n],
            round_rows[n * rounds : (n + 1) * rounds],
        )
        for n, trust in enumerate(trust_rows)
    ]


def _patterns(rng, objectives):
    """{objective index: gap(t)} for t in 0..1 (clinical minus managerial mean, before the Davies
    offsets) and a base level: two trust-wide objectives divergent, one converging, the rest aligned."""
    trust_wide = [k for k, (_, d) in enumerate(objectives) if d is None]
    chosen = rng.sample(trust_wide, 3)
    patterns = {}
    for k in range(len(objectives)):
        if k in chosen[:2]:  # divergent: clinicians see ~1.5 less progress throughout
            gap = -DIVERGENT_GAP + rng.uniform(-0.15, 0.15)
            patterns[k] = (rng.uniform(3.0, 3.3), lambda t, g=gap: g)
        elif k == chosen[2]:  # converging: divergent two years ago, aligned now
            patterns[k] = (rng.uniform(3.0, 3.3), lambda t: -DIVERGENT_GAP * (1 - t) - 0.1 * t)
        else:
            gap = rng.uniform(-0.3, 0.3)
            patterns[k] = (rng.uniform(2.8, 3.5), lambda t, g=gap: g)
    return patterns


def _trust_rows(*, number, trust, people, objectives, rounds, responders, seed, progress, pulse_out):
    """Yield one trust's rating rows in (round, objective, rater) order; its pulse rows go to `pulse_out`."""
    from surveys.statements import STATEMENTS

    rng = random.Random(f"{seed}:{number}:scores")
    patterns = _patterns(rng, objectives)
    raters = [
        (
            membership.pk,
            person.professional_group,
            person.level,
            membership.directorate_id,
            person.davies_group,
            rng.gauss(0, LENIENCY_SD),
        )
        for membership, person in people
        if person.role != "administrator"
    ]
    gauss, uniform = rng.gauss, rng.random
    quality_cdf = {group: _cumulative(weights) for group, weights in PULSE_QUALITY.items()}
    outlook_cdf = {group: _cumulative(weights) for group, weights in PULSE_OUTLOOK.items()}
    statement_keys = list(STATEMENTS)
    trust_id = trust.pk
    for index, round_ in enumerate(rounds):
        t = index / (len(rounds) - 1) if len(rounds) > 1 else 1.0
        answering = [raters[i] for i in responders[index]]
        stamps = {}
        for rater in answering:  # one sitting per person: all their answers share a time
            day = round_.opens_on + timedelta(days=rng.randrange((round_.closes_on - round_.opens_on).days + 1))
            stamps[rater[0]] = _aware(day, 8 + rng.randrange(11), rng.randrange(60))
        written = 0
        for k, (objective, _) in enumerate(objectives):
            base, gap = patterns[k]
            level = base + 0.4 * t  # progress over the two years
            g = gap(t)
            means = {
                "senior_clinical": level + g / 2 + DAVIES_OFFSET["senior_clinical"],
                "operational_clinical": level + g / 2 + DAVIES_OFFSET["operational_clinical"],
                "senior_nonclinical": level - g / 2 + DAVIES_OFFSET["senior_nonclinical"],
                "operational_nonclinical": level - g / 2,
            }
            directorate_id = objective.directorate_id
            for pk, group, lvl, rater_directorate, davies, leniency in answering:
                if directorate_id is not None and rater_directorate != directorate_id:
                    continue  # directorate objectives are rated by that directorate's members only
                u = uniform()
                if u < CANT_JUDGE:
                    score, comment = None, ""
                else:
                    score = _score(means[davies] + leniency + gauss(0, SCORE_SD))
                    comment = ""
                    if u > 1 - COMMENTED:
                        comment = rng.choice(COMMENTS["low" if score <= 2 else "high"])
                stamp = stamps[pk]
                yield (
                    trust_id,
                    round_.pk,
                    objective.pk,
                    pk,
                    group,
                    lvl,
                    rater_directorate,
                    score,
                    comment,
                    stamp,
                    stamp,
                )
                written += 1
        progress.tick(ratings=written)
        for pk, group, lvl, rater_directorate, davies, _ in answering:
            quality = None if uniform() < 0.02 else 1 + _pick(rng, quality_cdf[davies], range(5))
            outlook = _pick(rng, outlook_cdf[davies], ("improve", "same", "deteriorate"))
            if quality is None:
                category = rng.choice(CATEGORIES)
            else:  # the category follows the quality, give or take one step
                category = CATEGORIES[min(3, max(0, quality - 2 + rng.choice((-1, 0, 0, 0, 1))))]
            statements = {}
            if uniform() < STATEMENT_SHARE:
                statements = {key: _score((quality or 3) + gauss(0, 0.7)) for key in statement_keys}
            stamp = stamps[pk]
            pulse_out.append(
                (
                    trust_id,
                    round_.pk,
                    pk,
                    group,
                    lvl,
                    rater_directorate,
                    quality,
                    outlook,
                    category,
                    statements,
                    stamp,
                    stamp,
                )
            )


def _deferrable(cursor, table):
    """[(drop statement, restore statement)] for what a bulk load of `table` can put back once at
    the end instead of maintaining row by row: its non-unique indexes (rebuilt by one sort each)
    and its foreign keys (re-added, which checks every row in one join). Indexes come first, so
    they are rebuilt before the keys are checked. Primary keys and unique constraints stay."""
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = %s::regclass AND NOT x.indisunique AND NOT x.indisprimary ORDER BY i.relname",
        [table],
    )
    statements = [(f'DROP INDEX "{name}"', definition) for name, definition in cursor.fetchall()]
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
        "AND contype = 'f' ORDER BY conname",
        [table],
    )
    statements += [
        (
            f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"',
            f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}',
        )
        for name, definition in cursor.fetchall()
    ]
    return statements


def generate(*, trusts, members, rounds, response, seed, progress=None, connection=None, today=None, defer_checks=None):
    """Create `trusts` bench trusts (B001...) with everything down to ratings and pulse responses.

    `connection`: a Django connection (default: django.db.connection); on PostgreSQL the big
    tables are written by COPY, elsewhere by bulk_create. `progress`: a callable taking a line
    of text. `defer_checks`: drop the non-unique indexes and the foreign keys of the ratings and
    pulse responses for the COPY and restore them after it (PostgreSQL; default: from a million
    ratings). Raises ValueError if any of the trust codes exists already.
    """
    from django.db import connection as default_connection
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from partnership.models import Trust
    from surveys.models import PulseResponse, Rating

    if not 0 < response <= 1:
        raise ValueError("response is a share: more than 0, at most 1")
    if trusts < 1 or rounds < 1:
        raise ValueError("At least one trust and one round.")
    connection = connection or default_connection
    alias = connection.alias
    today = today or timezone.localdate()
    started = time.perf_counter()
    result = Generated()
    say = progress or (lambda line: None)
    codes = [TRUST_CODE.format(trust=n) for n in range(1, trusts + 1)]
    with scopes_disabled():
        taken = list(Trust.objects.using(alias).filter(code__in=codes).values_list("code", flat=True)[:3])
        if taken:
            raise ValueError(f"Trust(s) {', '.join(taken)} exist already: this database holds a bench dataset.")
        say(f"Creating {trusts:,} trusts with {members:,} members, objectives and {rounds} rounds each")
        structure = _structure(trusts=trusts, members=members, rounds=rounds, seed=seed, today=today, alias=alias)
        result.trusts, result.members = trusts, trusts * members
        result.objectives = sum(len(objectives) for _, _, objectives, _ in structure)
        result.rounds = trusts * rounds

        # Who answers which round, drawn first so that the totals are exact.
        plans, total_ratings, total_pulse = [], 0, 0
        for number, (_, people, objectives, _) in enumerate(structure, start=1):
            rng = random.Random(f"{seed}:{number}:responders")
            per_directorate = {}
            for _, directorate_index in objectives:
                per_directorate[directorate_index] = per_directorate.get(directorate_index, 0) + 1
            entitled = [  # how many objectives each rater rates: the trust-wide ones and their directorate's
                per_directorate.get(None, 0)
                + (per_directorate.get(person.directorate, 0) if person.directorate is not None else 0)
                for _, person in people
                if person.role != "administrator"
            ]
            responders = [[i for i in range(len(entitled)) if rng.random() < response] for _ in range(rounds)]
            plans.append(responders)
            total_ratings += sum(entitled[i] for answering in responders for i in answering)
            total_pulse += sum(len(answering) for answering in responders)
        say(
            f"Structure done in {time.perf_counter() - started:.1f} s; "
            f"writing {total_ratings:,} ratings and {total_pulse:,} pulse responses"
        )

        postgres = connection.vendor == "postgresql"
        if defer_checks is None:
            defer_checks = postgres and total_ratings >= DEFER_CHECKS_ROWS
        dropped = []
        ratings_writer = _Writer(connection, Rating, RATING_COLUMNS)
        pulse_writer = _Writer(connection, PulseResponse, PULSE_COLUMNS)
        tracker = _Progress(progress, total_ratings, total_pulse)
        copy_started = time.perf_counter()
        try:
            if defer_checks:
                with connection.cursor() as cursor:
                    for model in (Rating, PulseResponse):
                        for drop, restore in _deferrable(cursor, model._meta.db_table):
                            cursor.execute(drop)
                            dropped.append(restore)
                say(f"Dropped {len(dropped)} non-unique indexes and foreign keys for the COPY; restored after it")
            for number, ((trust, people, objectives, trust_rounds), responders) in enumerate(
                zip(structure, plans, strict=True), start=1
            ):
                pulse_rows = []
                rows = _trust_rows(
                    number=number,
                    trust=trust,
                    people=people,
                    objectives=objectives,
                    rounds=trust_rounds,
                    responders=responders,
                    seed=seed,
                    progress=tracker,
                    pulse_out=pulse_rows,
                )
                result.ratings += ratings_writer.write(rows)
                result.pulse_responses += pulse_writer.write(pulse_rows)
                tracker.tick(pulse=len(pulse_rows))
            tracker.tick(final=True)
            result.copy_seconds = time.perf_counter() - copy_started
        finally:
            restore_started = time.perf_counter()
            if dropped:
                say(f"Restoring the {len(dropped)} indexes and foreign keys (each key checks every row)")
                with connection.cursor() as cursor:
                    cursor.execute("SET maintenance_work_mem = '512MB'")  # this session only: sorts in memory
                    for restore in dropped:
                        cursor.execute(restore)
                    cursor.execute("RESET maintenance_work_mem")
            result.restore_seconds = time.perf_counter() - restore_started
        if postgres:  # settle the new rows: planner statistics, visibility map (else autovacuum does it mid-bench)
            say(f"Restored in {result.restore_seconds:.1f} s; VACUUM ANALYZE" if dropped else "VACUUM ANALYZE")
            vacuum_started = time.perf_counter()
            with connection.cursor() as cursor:
                for model in (Rating, PulseResponse):
                    table = connection.ops.quote_name(model._meta.db_table)
                    cursor.execute(f"ANALYZE {table}" if connection.in_atomic_block else f"VACUUM (ANALYZE) {table}")
                cursor.execute("ANALYZE")
            result.vacuum_seconds = time.perf_counter() - vacuum_started
    result.seconds = time.perf_counter() - started
    return result


def ratings_csv_write(*, path, rows, trust_code, seed, today=None, progress=None, connection=None):
    """Stream `rows` ratings of trust `trust_code` that are not in the database to `path`, in the
    `import_ratings` format. Newest first: the current month (a round not yet in the database),
    then the combinations nobody rated in the stored rounds, then month after month before them.
    Every row is entitled: trust-wide objectives by anyone who rates, directorate objectives by
    that directorate's members only. Returns the number of months the file covers."""
    from django.db import connection as default_connection
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from objectives.models import Objective
    from partnership.models import Membership, Trust
    from surveys.models import Rating, RatingRound

    alias = (connection or default_connection).alias
    today = today or timezone.localdate()
    with scopes_disabled():
        trust = Trust.objects.using(alias).filter(code=trust_code).first()
        if trust is None:
            raise ValueError(f"No trust {trust_code} in the database: generate the dataset first.")
        raters = list(
            Membership.objects.using(alias)
            .filter(trust=trust, is_active=True)
            .exclude(role="administrator")
            .order_by("pk")
            .values_list("pk", "user__email", "directorate_id", "professional_group")
        )
        objectives = list(
            Objective.objects.using(alias)
            .filter(trust=trust)
            .exclude(status="draft")
            .order_by("ref")
            .values_list("pk", "ref", "directorate_id")
        )
        rounds = dict(RatingRound.objects.using(alias).filter(trust=trust).values_list("period", "pk"))
        rated = set(
            Rating.objects.using(alias)
            .filter(trust=trust)
            .values_list("round_id", "objective_id", "rater_id")
            .iterator()
        )
    pairs = [
        (rater, email, group, objective, ref)
        for rater, email, directorate, group in raters
        for objective, ref, objective_directorate in objectives
        if objective_directorate is None or objective_directorate == directorate
    ]
    if not pairs:
        raise ValueError(f"Nobody in {trust_code} has an objective to rate.")
    rng = random.Random(f"{seed}:csv")
    comments = COMMENTS["low"] + COMMENTS["high"]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.parent == DATA_DIR and not (DATA_DIR / ".gitignore").exists():
        (DATA_DIR / ".gitignore").write_text("*\n!.gitignore\n")
    written = months = 0
    year, month = today.year, today.month
    started = time.perf_counter()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["period", "objective_ref", "rater_email", "score", "comment"])
        while written < rows:
            round_id, period, months = rounds.get(date(year, month, 1)), f"{year:04d}-{month:02d}", months + 1
            for rater, email, group, objective, ref in pairs:
                if round_id is not None and (round_id, objective, rater) in rated:
                    continue
                u = rng.random()
                score = "" if u < CANT_JUDGE else _score(rng.gauss(3.0 if group == "clinical" else 3.5, 0.9))
                comment = rng.choice(comments) if u > 1 - COMMENTED else ""
                writer.writerow([period, ref, email, score, comment])
                written += 1
                if written == rows:
                    break
                if progress and written % PROGRESS_EVERY == 0:
                    rate = written / (time.perf_counter() - started)
                    progress(f"csv {written:,}/{rows:,} ({rate:,.0f} rows/s)")
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def _short(number):
    """1000000 -> '1m', 100000 -> '100k', 200 -> '200': for file names."""
    for size, suffix in ((1_000_000, "m"), (1_000, "k")):
        if number >= size and number % size == 0:
            return f"{number // size}{suffix}"
    return str(number)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trusts", type=int, default=200)
    parser.add_argument("--members", type=int, default=400, help="people per trust, administrators included")
    parser.add_argument("--rounds", type=int, default=24, help="monthly rounds per trust, ending last month")
    parser.add_argument("--response", type=float, default=0.6, help="share of raters answering each round")
    parser.add_argument("--database", default="cg_bench", help="database name on DATABASE_URL's server")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the database first")
    parser.add_argument(
        "--if-missing", action="store_true", help="keep a dataset (and a CSV) that exists already instead of failing"
    )
    parser.add_argument("--seed", type=int, default=2002)
    parser.add_argument(
        "--keep-constraints",
        action="store_true",
        help="keep indexes and foreign keys in place during the COPY (slower; to compare)",
    )
    parser.add_argument("--csv-rows", type=int, default=0, help="also write a CSV of this many new ratings")
    parser.add_argument("--csv-out", type=Path, help="where to write it (default bench/data/ratings-<rows>.csv)")
    parser.add_argument("--csv-trust", default="B001", help="the trust the CSV's ratings are for")
    return parser.parse_args(argv)


def database_drop(database):
    """DROP DATABASE on DATABASE_URL's server (refused while anyone is connected to it)."""
    import os
    from urllib.parse import urlsplit, urlunsplit

    import psycopg
    from psycopg import sql

    from bench.import_ratings import DEFAULT_URL, say

    parts = urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_URL)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(f"The generator needs PostgreSQL; DATABASE_URL is {parts.scheme}://...")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        say(f"Dropping database {database}")
        try:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(database)))
        except psycopg.errors.ObjectInUse as exc:
            sys.exit(f"Cannot drop {database}: {exc.diag.message_detail or exc}")


def main(argv=None):
    args = parse_args(argv)
    if args.database in ("-", "postgres", "template0", "template1"):
        sys.exit("The generator needs a throwaway database of its own (--database).")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from bench.import_ratings import bench_database_url, say, setup_django

    started = time.perf_counter()
    if args.reset:
        database_drop(args.database)
    url = bench_database_url(args.database)
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection
    from django_scopes import scopes_disabled

    from partnership.models import Trust

    say(f"Migrating {args.database}")
    call_command("migrate", verbosity=0)

    def progress(line):
        say(line)

    with scopes_disabled():
        existing = Trust.objects.filter(code=TRUST_CODE.format(trust=1)).exists()
    result = None
    if existing and not (args.if_missing or args.csv_rows):
        sys.exit(
            f"{args.database} holds a bench dataset already: --reset regenerates it, --if-missing accepts it, "
            "--csv-rows writes a CSV for it."
        )
    elif existing:
        say(f"{args.database} holds a bench dataset already; not generating (--reset regenerates it)")
    else:
        try:
            result = generate(
                trusts=args.trusts,
                members=args.members,
                rounds=args.rounds,
                response=args.response,
                seed=args.seed,
                progress=progress,
                defer_checks=False if args.keep_constraints else None,
            )
        except ValueError as exc:
            sys.exit(str(exc))
    csv_out = args.csv_out or DATA_DIR / f"ratings-{_short(args.csv_rows)}.csv"
    write_csv = args.csv_rows and not (args.if_missing and csv_out.exists())
    if write_csv:
        say(f"Writing {args.csv_rows:,} new ratings of {args.csv_trust} to {csv_out}")
        csv_started = time.perf_counter()
        try:
            months = ratings_csv_write(
                path=csv_out, rows=args.csv_rows, trust_code=args.csv_trust, seed=args.seed, progress=progress
            )
        except ValueError as exc:
            sys.exit(str(exc))
        csv_seconds = time.perf_counter() - csv_started
    elif args.csv_rows:
        say(f"{csv_out} exists already; not writing it (--if-missing)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        size = cursor.fetchone()[0]

    print()
    print(f"PostgreSQL database {args.database}")
    if result:
        rows = result.ratings + result.pulse_responses
        print(f"  seed, response   {args.seed:>12} {args.response:>7.0%}")
        print(f"  trusts           {result.trusts:>12,}")
        print(f"  members          {result.members:>12,}")
        print(f"  objectives       {result.objectives:>12,}")
        print(f"  rounds           {result.rounds:>12,}")
        print(f"  ratings          {result.ratings:>12,}")
        print(f"  pulse responses  {result.pulse_responses:>12,}")
        print(
            f"  COPY             {result.copy_seconds:>11.1f}s  {rows / result.copy_seconds:>10,.0f} rows/s "
            f"(ratings + pulse responses)"
        )
        print(f"  indexes, FKs     {result.restore_seconds:>11.1f}s  (rebuilt and re-checked after the COPY)")
        print(f"  VACUUM ANALYZE   {result.vacuum_seconds:>11.1f}s")
        print(f"  elapsed          {result.seconds:>11.1f}s  {rows / result.seconds:>10,.0f} rows/s overall")
    if write_csv:
        print(
            f"  CSV              {csv_out} ({csv_out.stat().st_size / 1e6:,.1f} MB, {args.csv_rows:,} rows "
            f"of {args.csv_trust} over {months} month(s), {csv_seconds:.1f}s)"
        )
    print(f"  database size    {size / 1e9:>11.2f} GB")
    print(f"  total            {time.perf_counter() - started:>11.1f}s")


if __name__ == "__main__":
    main()
