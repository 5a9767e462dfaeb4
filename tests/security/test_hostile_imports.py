"""The hostile corpus through every CSV import (issue #8 item 3): the `import_people`,
`import_objectives`, `import_ratings` and `import_pulse` commands and the browser upload of
people and objectives (upload, preview, confirm).

For each corpus file and each string payload in each cell of an otherwise valid row:
no crash and no 500; either a clear refusal (CommandError, or errors by line in the preview)
with the database exactly as it was, or an import whose stored values are shown escaped.

Payloads in cells are batched: for each import and column, one file holds one row per
payload (each an otherwise valid row, distinct where the import needs it). The whole file
must be refused with an error for each bad row, on a line of the file, and nothing written;
the same file without the rows that had errors must then import, all or nothing being
about rows, not luck. Payloads containing NUL are tested one by one: the file is refused.
"""

import csv
import io
import json
import re
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from objectives.models import Objective
from surveys.exports import FORMULA_TRIGGERS
from surveys.models import RatingRound
from tests.factories import MembershipFactory

from .conftest import (
    COLUMNS,
    COMMANDS,
    KINDS,
    PAYLOADS,
    STRINGS_FILE,
    VALID_ROW,
    all_csv_files,
    csv_files,
    db_snapshot,
    describe,
    html_problems,
    many_rows_csv,
    needs_escaping,
    page_text,
    rolled_back,
    snapshot_diff,
    ten_megabyte_csv,
    with_cell,
)

pytestmark = pytest.mark.django_db

CODE = "RAA"
BROWSER_KINDS = ("people", "objectives")
ERROR_LINE = re.compile(r": line (\d+): ")


def url(name, **kwargs):
    return reverse(name, kwargs={"trust_code": CODE, **kwargs})


@pytest.fixture
def viewer(world):
    """A second administrator, never in any file: the one who looks at the pages afterwards."""
    return MembershipFactory(trust=world.trust, administrator=True, user__email="viewer@ashby.nhs.uk")


class Command:
    """Runs an import command on bytes; (ok, message, stderr). Any other exception is a crash."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.count = 0

    def __call__(self, kind, data):
        self.count += 1
        path = self.tmp_path / f"{kind}-{self.count}.csv"
        path.write_bytes(data)
        out, err = io.StringIO(), io.StringIO()
        try:
            call_command(COMMANDS[kind], CODE, str(path), stdout=out, stderr=err)
        except CommandError as exc:
            return False, str(exc), err.getvalue()
        return True, out.getvalue(), err.getvalue()


@pytest.fixture
def command(tmp_path):
    return Command(tmp_path)


class Pages:
    """Looks at pages as different people and collects what is wrong with them."""

    def __init__(self, client, failures):
        self.client = client
        self.failures = failures

    def check(self, membership, paths, payloads, context):
        self.client.force_login(membership.user)
        for path in paths:
            response = self.client.get(path)
            if response.status_code >= 500:
                self.failures.append(f"{context}: GET {path} answered {response.status_code}")
                continue
            for problem in html_problems(page_text(response), payloads):
                self.failures.append(f"{context}: GET {path}: {problem}")


def _pages_after_import(kind, world, viewer, payloads=(), rows=()):
    """(membership, paths) whose pages show what an import of `kind` stored."""
    common = [(viewer, [url("trust_home"), url("round_list")])]
    more = ["?page=2"] if len(rows) > 40 else []
    if kind == "people":
        return [(viewer, [url("people_list") + page for page in ["", *more]]), *common]
    if kind == "objectives":
        return [(world.md, [url("objective_list") + page for page in ["", *more]]), *common]
    if kind == "ratings":
        periods = sorted({row["period"].strip() for row in rows if needs_escaping(row["comment"])})
        rate_pages = [f"{url('rate')}{quote(period)}/" for period in periods if re.fullmatch(r"\d{4}-\d{2}", period)]
        return [(world.clin, [url("rate"), *rate_pages]), *common, (world.md, [url("dashboard")])]
    return [*common, (world.md, [url("dashboard")])]


# ------------------------------------------------------------------------------ corpus files


def _expect_ok(path):
    return path.name.startswith("ok_")


@pytest.mark.parametrize("kind", KINDS)
def test_corpus_files_through_the_import_command(kind, world, viewer, command, web):
    failures = []
    pages = Pages(web, failures)
    baseline = db_snapshot()
    for path in csv_files(kind):
        name = f"{path.parent.name}/{path.name}"
        with rolled_back():
            try:
                ok, message, stderr = command(kind, path.read_bytes())
            except Exception as exc:  # noqa: BLE001 -- any crash is the finding
                failures.append(f"{name}: crashed with {exc.__class__.__name__}: {exc}")
                continue
            after = db_snapshot()
            if _expect_ok(path):
                if not ok:
                    failures.append(f"{name}: refused ({message}; {stderr.strip()[:300]})")
                elif after == baseline:
                    failures.append(f"{name}: reported success but wrote nothing")
                else:
                    for membership, paths in _pages_after_import(kind, world, viewer):
                        pages.check(membership, paths, [], name)
            else:
                if ok:
                    failures.append(f"{name}: imported ({message.strip()})")
                elif not message.strip():
                    failures.append(f"{name}: refused without a message")
                if after != baseline:
                    failures.append(f"{name}: refused but wrote {', '.join(snapshot_diff(baseline, after))}")
                _check_error_lines(failures, name, path.read_bytes(), stderr)
    assert not failures, "\n".join(failures)


def _check_error_lines(failures, name, data, stderr):
    """Every "line N" of the command's errors is a line of the file."""
    lines = max(1, len(re.split(rb"\r\n|\r|\n", data.rstrip(b"\r\n"))))
    for match in ERROR_LINE.finditer(stderr):
        if not 1 <= int(match.group(1)) <= lines:
            failures.append(f"{name}: error on line {match.group(1)} of a {lines}-line file")


def _upload(client, kind, data, name="upload.csv"):
    return client.post(url(f"{kind}_import"), {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def _preview_state(response):
    """'ready', 'refused' (errors listed or a form error) or None when neither is shown."""
    text = page_text(response)
    if "The file is ready to import" in text:
        return "ready"
    if "Nothing was imported" in text or (response.context and response.context["form"].errors):
        return "refused"
    return None


@pytest.mark.parametrize("kind", BROWSER_KINDS)
def test_corpus_files_through_the_browser_upload(kind, world, viewer, web):
    failures = []
    pages = Pages(web, failures)
    web.force_login(world.admin.user)
    baseline = db_snapshot()
    for path in csv_files(kind):
        name = f"{path.parent.name}/{path.name}"
        with rolled_back():
            web.force_login(world.admin.user)
            response = _upload(web, kind, path.read_bytes(), path.name)
            if response.status_code >= 500:
                failures.append(f"{name}: upload answered {response.status_code}")
                continue
            failures.extend(f"{name}: preview: {problem}" for problem in html_problems(page_text(response)))
            state = _preview_state(response)
            if db_snapshot() != baseline:
                failures.append(f"{name}: the preview wrote to the database")
            confirm = web.post(url(f"{kind}_import_confirm"))
            after = db_snapshot()
            if confirm.status_code >= 500:
                failures.append(f"{name}: confirm answered {confirm.status_code}")
            elif _expect_ok(path):
                if state != "ready":
                    failures.append(f"{name}: the preview did not offer to import it ({state})")
                elif after == baseline:
                    failures.append(f"{name}: confirmed but nothing was written")
                else:
                    for membership, paths in _pages_after_import(kind, world, viewer):
                        pages.check(membership, paths, [], name)
            else:
                if state != "refused":
                    failures.append(f"{name}: the preview did not refuse it ({state})")
                if after != baseline:
                    failures.append(f"{name}: refused but confirm wrote {', '.join(snapshot_diff(baseline, after))}")
    assert not failures, "\n".join(failures)


# ------------------------------------------------------------------------------ payloads in cells

# Rows must not collide on what each import treats as the same row.
MONTHS = [f"{year}-{month:02d}" for year in range(2025, 2014, -1) for month in range(12, 0, -1)]


def _batch_rows(kind, column, payloads):
    rows = []
    for index, payload in enumerate(payloads):
        row = dict(VALID_ROW[kind])
        if kind == "people":
            row["email"] = f"h{index}@ashby.nhs.uk"
        elif kind == "objectives":
            row["ref"] = f"H-{index}"
        else:
            row["period"] = MONTHS[index]
        row[column] = payload
        rows.append(row)
    return rows


def _encode(kind, rows):
    """(bytes of the CSV, the line number the import reports for each row)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS[kind])
    for row in rows:
        writer.writerow([row[c] for c in COLUMNS[kind]])
    text = out.getvalue()
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    lines = []
    for _ in reader:
        lines.append(reader.line_num)
    return text.encode("utf-8"), lines


BATCHED = [p for p in PAYLOADS if "\x00" not in p]
CELLS = [(kind, column) for kind in KINDS for column in COLUMNS[kind]]


def _ids(cells):
    return [f"{kind}.{column}" for kind, column in cells]


@pytest.mark.parametrize(("kind", "column"), CELLS, ids=_ids(CELLS))
def test_payloads_in_each_cell_through_the_import_command(kind, column, world, viewer, command, web):
    failures = []
    rows = _batch_rows(kind, column, BATCHED)
    data, lines = _encode(kind, rows)
    last_line = lines[-1]
    baseline = db_snapshot()
    ok, message, stderr = command(kind, data)
    bad_lines = {int(n) for n in ERROR_LINE.findall(stderr)}
    if ok:
        good = rows
    else:
        if db_snapshot() != baseline:
            failures.append(f"refused but wrote {', '.join(snapshot_diff(baseline, db_snapshot()))}")
        if not bad_lines:
            failures.append(f"refused without an error for any line: {message}; {stderr[:500]}")
        failures.extend(f"error on line {n}, outside the file" for n in bad_lines if not 2 <= n <= last_line)
        good = [row for row, line in zip(rows, lines, strict=True) if line not in bad_lines]
        if good:
            ok, message, stderr = command(kind, _encode(kind, good)[0])
            if not ok:
                failures.append(f"the rows without errors were refused in turn: {message}; {stderr[:1000]}")
    if ok:
        payloads = [row[column] for row in good]
        for membership, paths in _pages_after_import(kind, world, viewer, payloads, good):
            Pages(web, failures).check(membership, paths, payloads, f"{kind}.{column}")
    accepted = {describe(row[column]) for row in good} if ok else set()
    assert not failures, "\n".join(failures) + f"\naccepted: {sorted(accepted)}"


@pytest.mark.parametrize(("kind", "column"), [(k, c) for k, c in CELLS if k in BROWSER_KINDS])
def test_payloads_in_each_cell_through_the_browser_upload(kind, column, world, viewer, web):
    failures = []
    web.force_login(world.admin.user)
    rows = _batch_rows(kind, column, BATCHED)
    data, lines = _encode(kind, rows)
    baseline = db_snapshot()
    response = _upload(web, kind, data)
    assert response.status_code < 500, f"upload answered {response.status_code}"
    failures.extend(f"preview: {problem}" for problem in html_problems(page_text(response), BATCHED))
    plan = response.context["plan"]
    if db_snapshot() != baseline:
        failures.append("the preview wrote to the database")
    good = rows
    if not plan.is_valid:
        bad_lines = {error.line for error in plan.errors}
        good = [row for row, line in zip(rows, lines, strict=True) if line not in bad_lines]
        confirm = web.post(url(f"{kind}_import_confirm"))
        assert confirm.status_code < 500
        if db_snapshot() != baseline:
            failures.append("a refused file was written on confirm")
        if not good:
            assert not failures, "\n".join(failures)
            return
        response = _upload(web, kind, _encode(kind, good)[0])
        assert response.status_code < 500
        if not response.context["plan"].is_valid:
            failures.append(f"the rows without errors were refused in turn: {response.context['plan'].errors[:5]}")
    confirm = web.post(url(f"{kind}_import_confirm"))
    if confirm.status_code != 302:
        failures.append(f"confirm answered {confirm.status_code}")
    payloads = [row[column] for row in good]
    paths_by_member = _pages_after_import(kind, world, viewer, payloads, good)
    if kind == "objectives" and column in ("title", "description"):
        refs = [row["ref"] for row in good if needs_escaping(row[column])]
        paths_by_member.append((world.md, [url("objective_detail", ref=ref) for ref in refs]))
    for membership, paths in paths_by_member:
        Pages(web, failures).check(membership, paths, payloads, f"{kind}.{column}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("kind", KINDS)
def test_a_nul_character_in_any_cell_refuses_the_file(kind, world, command):
    baseline = db_snapshot()
    for column in COLUMNS[kind]:
        for payload in [p for p in PAYLOADS if "\x00" in p]:
            ok, message, stderr = command(kind, with_cell(kind, column, payload))
            # Refused whole (the file-level NUL check), or on its line (streaming imports).
            assert not ok and "NUL" in message + stderr, (column, describe(payload), message, stderr)
    assert db_snapshot() == baseline


# ------------------------------------------------------------------------------ huge files


@pytest.mark.parametrize("kind", KINDS)
def test_huge_files_through_the_import_command(kind, world, command):
    """200,000 rows: refused, whole (past the row limit) or row by row (the ratings and pulse
    imports stream larger files on PostgreSQL; these raters are not members). 10 MB with a
    300 KB cell: refused. Either way with errors on lines of the file and nothing written."""
    baseline = db_snapshot()
    failures = []
    for name, data in (("200k rows", many_rows_csv(kind, 200_000)), ("10 MB", ten_megabyte_csv(kind))):
        ok, message, stderr = command(kind, data)
        if ok or not message:
            failures.append(f"{name}: not refused ({message})")
        if "more than 100,000 rows" not in stderr and "field larger than field limit" not in stderr:
            if not ERROR_LINE.search(stderr):
                failures.append(f"{name}: refused without a reason: {message}; {stderr[:300]}")
        _check_error_lines(failures, name, data, stderr)
    assert not failures, "\n".join(failures)
    assert db_snapshot() == baseline


@pytest.mark.parametrize("kind", BROWSER_KINDS)
def test_huge_files_through_the_browser_upload(kind, world, web):
    web.force_login(world.admin.user)
    baseline = db_snapshot()
    response = _upload(web, kind, ten_megabyte_csv(kind))
    assert response.status_code == 200
    assert "larger than 5 MB" in str(response.context["form"].errors)
    data = many_rows_csv(kind, 200_000, compact=True)
    assert len(data) < 5 * 1024 * 1024
    response = _upload(web, kind, data)
    assert response.status_code == 200
    assert "more than 100,000 rows" in page_text(response)
    assert web.post(url(f"{kind}_import_confirm")).status_code == 302
    assert db_snapshot() == baseline


# ------------------------------------------------------------------------------ what imports lead to


def test_objectives_imported_by_the_command_have_a_working_detail_page(world, command, web):
    """The command imports with no user: the history entry's "who" is None, and the detail page's
    `entry.who.full_name|default:entry.who.email` then fails on the filter argument."""
    ok, message, stderr = command("objectives", with_cell("objectives", "title", "Imported from the command line"))
    assert ok, (message, stderr)
    web.force_login(world.md.user)
    response = web.get(url("objective_detail", ref=VALID_ROW["objectives"]["ref"]))
    assert response.status_code == 200


@pytest.mark.parametrize("kind", ["ratings", "pulse"])
@pytest.mark.parametrize("period", ["0999-12", "+202-01"])
def test_imports_refuse_a_period_before_year_1000(kind, period, world, viewer, command, web):
    """period_parse accepts these; the import then creates a round whose URL cannot be built, and
    the rounds list and trust home fail for everyone."""
    ok, message, _ = command(kind, with_cell(kind, "period", period))
    web.force_login(viewer.user)
    assert web.get(url("round_list")).status_code == 200
    assert web.get(url("trust_home")).status_code == 200
    assert not ok, f"{period} was imported: {message}"


FORMULAS = [p for p in PAYLOADS if p.strip() and p.lstrip(" ")[:1] in "=+-@\t\r"]


def test_report_csv_neutralises_formulas_in_imported_titles(world, viewer, command, web, unscoped):
    """Titles imported with formulas (and every other payload a title can hold) come out of the
    report CSV as text: no cell starts with = + - @ tab or CR, and the dashboard escapes them."""
    titles = [p for p in PAYLOADS if "\x00" not in p and 0 < len(" ".join(p.split())) <= 200]
    assert set(FORMULAS) <= set(titles)
    rows = _batch_rows("objectives", "title", titles)
    ok, message, stderr = command("objectives", _encode("objectives", rows)[0])
    assert ok, (message, stderr[:2000])
    ratings = [
        {"period": "2025-06", "objective_ref": row["ref"], "rater_email": email, "score": "4", "comment": ""}
        for row in rows
        for email in ("clin@ashby.nhs.uk", "mgr@ashby.nhs.uk")
    ]
    ok, message, stderr = command("ratings", _encode("ratings", ratings)[0])
    assert ok, (message, stderr[:2000])
    assert RatingRound.objects.get(period="2025-06-01").status == "closed"

    web.force_login(world.md.user)
    response = web.get(url("report_csv", period="2025-06"))
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    report = list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
    stored = dict(Objective.objects.values_list("ref", "title"))
    assert {row["objective_ref"] for row in report} >= {row["ref"] for row in rows}
    for row in report:
        for column in ("objective_ref", "objective_title", "theme", "period", "status"):
            assert not row[column].startswith(FORMULA_TRIGGERS), (column, row[column])
        title = row["objective_title"]
        assert title == stored[row["objective_ref"]] or title == "'" + stored[row["objective_ref"]]
    dashboard = web.get(url("dashboard_period", period="2025-06"))
    assert dashboard.status_code == 200
    assert not html_problems(page_text(dashboard), titles)
    pulse = web.get(url("report_pulse_csv", period="2025-06"))
    assert pulse.status_code == 200


# ------------------------------------------------------------------------------ the corpus itself


def test_the_corpus_has_at_least_50_entries_covering_every_kind_of_hostile_input():
    lines = [line for line in STRINGS_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    for line in lines:
        assert isinstance(json.loads(line), str | dict), line  # one JSON value a line
    files = all_csv_files()
    assert len(PAYLOADS) + len(files) >= 50, (len(PAYLOADS), len(files))
    assert all(path.name.startswith(("ok_", "err_")) for path in files)
    assert all(path.parent.name in (*KINDS, "any") for path in files)
    wanted = {
        "script": "<script>alert(1)</script>",
        "attribute breakout": '"><img src=x onerror=alert(1)>',
        "javascript URL": "javascript:alert(1)",
        "SVG onload": "<svg/onload=alert(1)>",
        "SQL": "'; DROP TABLE partnership_user; --",
        "SQL tautology": "1 OR 1=1",
        "RTL override": "\u202egnp.exe",
        "NUL": "\x00",
        "lone surrogate, escaped": "\\ud800",
        "formula": "=cmd|' /C calc'!A0",
        "tab-prefixed formula": "\t=1+1",
        "CR-prefixed formula": "\r=1+1",
    }
    for what, payload in wanted.items():
        assert payload in PAYLOADS, what
    assert any(len(p) == 10_000 for p in PAYLOADS) and any(len(p) == 100_000 for p in PAYLOADS)
    assert any("\u200d" in p and not p.isascii() for p in PAYLOADS)  # ZWJ (emoji sequences)
    assert any(ord(c) > 0xFFFF for p in PAYLOADS for c in p)  # 4-byte characters
    names = {path.name for path in files}
    for name in ("err_utf16le_bom.csv", "err_utf16be_bom.csv", "ok_utf8_bom.csv", "ok_windows_1252.csv"):
        assert name in names
    for name in ("err_zip_renamed.csv", "err_xlsx_renamed.csv", "err_binary_junk.csv", "err_unclosed_quote.csv"):
        assert name in names
