"""Property tests of the CSV importers' plan functions (issue #8 item 3), with generated CSV:
headers drawn from the right columns plus junk (in any case, order and spacing), cells drawn
from valid values, the hostile corpus and arbitrary text, ragged rows, any line ending.

Whatever the file, a plan function returns a plan (never raises); a plan with errors names
lines of the file; a plan without errors has rows; the plan writes nothing; applying a plan
with errors is refused and writes nothing, and applying a valid plan succeeds.

Text is what `decode_upload` can hand over, so it has no NUL and no lone surrogates; the byte
level (anything at all, through decode_upload) is a property of its own.
"""

import csv
import io
import re

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from objectives.importing import objectives_import_apply, objectives_import_plan
from partnership.csv_import import ImportFileError, decode_upload
from partnership.services.people_import import people_import_apply, people_import_plan
from surveys.importing import pulse_import_apply, pulse_import_plan, ratings_import_apply, ratings_import_plan

from .conftest import COLUMNS, PAYLOADS, VALID_ROW, db_snapshot, rolled_back, snapshot_diff

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

PLANS = {
    "people": (people_import_plan, lambda trust, plan: people_import_apply(trust=trust, plan=plan)),
    "objectives": (objectives_import_plan, lambda trust, plan: objectives_import_apply(trust=trust, plan=plan)),
    "ratings": (ratings_import_plan, lambda trust, plan: ratings_import_apply(trust=trust, plan=plan)),
    "pulse": (pulse_import_plan, lambda trust, plan: pulse_import_apply(trust=trust, plan=plan)),
}

# Rows that are valid in the `world` fixture (with {i} a row number), so that generated files
# reach every check, and the apply step, before one or two cells are swapped for hostile ones.
GOOD_ROWS = {
    "people": [
        "p{i}@ashby.nhs.uk,Person {i},clinical,operational,consultant,Medicine,no",
        "P{i}@Ashby.NHS.uk,Zoë O’Neil,Managerial ,operational,directorate_manager,Surgery,YES",
        "b{i}@ashby.nhs.uk,Board {i},managerial,board,board_member,,",
        "clin@ashby.nhs.uk,Clinician,clinical,operational,consultant,medicine,no",
    ],
    "objectives": [
        "H-{i},Objective {i},,dialogue,,,,draft",
        ',Title {i},"Two\nparagraphs",Continuity,Medicine,clin@ashby.nhs.uk,mgr@ashby.nhs.uk,agreed',
        "obj-{i},Objective {i},,clinical-focus,,clin@ashby.nhs.uk,,",
        "OBJ-01,Shared objective,,dialogue,,clin@ashby.nhs.uk,mgr@ashby.nhs.uk,agreed",
    ],
    "ratings": [
        "2025-{i:02d},OBJ-01,clin@ashby.nhs.uk,4,Fine",
        '2024-{i:02d},obj-01,MGR@ashby.nhs.uk,,"Line one\nline two"',
        "2023-{i:02d},OBJ-01,md@ashby.nhs.uk,1,",
    ],
    "pulse": [
        "2025-{i:02d},clin@ashby.nhs.uk,4,improve,partnership",
        "2024-{i:02d},mgr@ashby.nhs.uk,,Same,",
        "2023-{i:02d},md@ashby.nhs.uk,1,,unresolved",
    ],
}


def _good_row(kind, template, i):
    values = next(csv.reader([template.format(i=i)]))
    return dict(zip(COLUMNS[kind], values, strict=True))


JUNK_COLUMNS = ["notes", "", "e-mail", "=cmd|' /C calc'!A0", "<script>alert(1)</script>", "email ", "Ｅmail"]
# The corpus as decode_upload could hand it over: no NUL (the upload is refused first).
TEXT_PAYLOADS = [p for p in PAYLOADS if "\x00" not in p and len(p) <= 5000]
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
LINE_ENDINGS = ["\n", "\r\n", "\r"]


def _column_name(name):
    return st.sampled_from([name, name, name.upper(), name.title(), f" {name}", f"{name} ", f"\t{name}"])


@st.composite
def headers(draw, kind):
    columns = COLUMNS[kind]
    choice = draw(st.integers(0, 9))
    if choice < 6:  # the right columns, in any order and case: the rows are then checked
        names = draw(st.permutations(columns))
    elif choice < 8:  # one missing, or one junk column added
        names = list(draw(st.permutations(columns)))
        if draw(st.booleans()):
            names.pop(draw(st.integers(0, len(names) - 1)))
        else:
            names.insert(draw(st.integers(0, len(names))), draw(st.sampled_from(JUNK_COLUMNS)))
    else:  # anything from the columns and junk, duplicates included
        names = draw(st.lists(st.sampled_from(columns + JUNK_COLUMNS), max_size=len(columns) + 2))
    return [draw(_column_name(name)) for name in names]


HOSTILE_CELL = st.one_of(st.sampled_from(TEXT_PAYLOADS), TEXT)


@st.composite
def csv_files(draw, kind):
    """A generated CSV for the import of `kind`: mostly valid rows with a hostile cell or two,
    sometimes wholly random rows or ragged ones."""
    header = draw(headers(kind))
    keys = [name.strip().lower() for name in header]
    rows = []
    for i in range(1, draw(st.integers(0, 6)) + 1):
        good = _good_row(kind, draw(st.sampled_from(GOOD_ROWS[kind])), i)
        mode = draw(st.integers(0, 9))
        if mode < 5:  # a valid row (as far as the header allows)
            row = [good.get(key, "") for key in keys]
        elif mode < 8:  # one or two hostile cells
            hostile = draw(st.sets(st.sampled_from(keys), max_size=2)) if keys else set()
            row = [draw(HOSTILE_CELL) if key in hostile else good.get(key, "") for key in keys]
        else:  # anything, and maybe the wrong number of values
            row = draw(st.lists(HOSTILE_CELL, min_size=max(0, len(keys) - 1), max_size=len(keys) + 1))
        rows.append(row)
    ending = draw(st.sampled_from(LINE_ENDINGS))
    if draw(st.integers(0, 4)) == 0:  # written by hand: quotes and commas as they come
        text = ending.join(",".join(row) for row in [header, *rows])
    else:
        out = io.StringIO()
        csv.writer(out, lineterminator=ending).writerows([header, *rows])
        text = out.getvalue()
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    if draw(st.integers(0, 9)) == 0:
        text = "\ufeff" + text  # a BOM that decode_upload would have kept (a Windows-1252 file)
    return text


def lines_in(text):
    return max(1, len(re.split(r"\r\n|\r|\n", text.rstrip("\r\n"))))


def _check_plan(kind, world, text):
    plan_function, apply = PLANS[kind]
    with rolled_back():
        before = db_snapshot()
        plan = plan_function(trust=world.trust, text=text)
        after = db_snapshot()
        assert after == before, f"planning wrote {snapshot_diff(before, after)}"
        errors = list(plan.errors)
        event("refused" if errors else "valid")
        if errors:
            last = lines_in(text)
            for error in errors:
                line = getattr(error, "line", None)  # a "... and N more" entry has none
                assert line is None or 1 <= line <= last, f"error on line {line} of a {last}-line file: {error}"
                assert str(error).strip()
            with pytest.raises(ValueError):
                apply(world.trust, plan)
            assert db_snapshot() == before, "a plan with errors was applied"
        else:
            counted = getattr(plan, "created", 0) + getattr(plan, "updated", 0) + getattr(plan, "unchanged", 0)
            new_memberships = getattr(plan, "new_memberships", 0) + getattr(plan, "changed_memberships", 0)
            assert plan.rows or counted or new_memberships, "a plan with neither errors nor rows"
            apply(world.trust, plan)


@pytest.mark.parametrize("kind", list(PLANS))
def test_plan_functions_return_a_plan_for_any_file(kind, world):
    @FUZZ
    @given(text=csv_files(kind))
    def check(text):
        _check_plan(kind, world, text)

    check()


@pytest.mark.parametrize("kind", list(PLANS))
def test_plan_functions_with_a_corpus_payload_in_each_cell(kind, world):
    """One valid row with one cell replaced by a corpus payload, under any line ending."""

    @FUZZ
    @given(
        column=st.sampled_from(COLUMNS[kind]),
        payload=st.sampled_from(TEXT_PAYLOADS),
        ending=st.sampled_from(LINE_ENDINGS),
    )
    def check(column, payload, ending):
        out = io.StringIO()
        writer = csv.writer(out, lineterminator=ending)
        writer.writerow(COLUMNS[kind])
        writer.writerow([payload if c == column else VALID_ROW[kind][c] for c in COLUMNS[kind]])
        _check_plan(kind, world, out.getvalue())

    check()


@pytest.mark.parametrize("kind", list(PLANS))
def test_any_bytes_through_decode_upload_then_the_plan(kind, world):
    """What an upload does: decode (UTF-8, BOM, Windows-1252) or refuse, then plan."""
    header = ",".join(COLUMNS[kind]).encode()

    @FUZZ
    @given(body=st.binary(max_size=300), with_header=st.booleans())
    def check(body, with_header):
        data = header + b"\r\n" + body if with_header else body
        try:
            text = decode_upload(data)
        except ImportFileError as exc:
            assert str(exc)
            return
        assert "\x00" not in text
        _check_plan(kind, world, text)

    check()
