"""The file-level half of every CSV import: decoding, the header check, rows with line
numbers, per-line errors. Each import (people, objectives, ratings ...) adds its own row
validation and its own all-or-nothing apply step."""

import csv
import functools
import io
import re
from collections import Counter
from dataclasses import dataclass

from django.db import IntegrityError

MAX_ROWS = 100_000
# No import has more than a dozen columns: a wider header is refused before anything else is
# done with it, so a hostile header costs one pass over its cells.
MAX_COLUMNS = 50


class ImportFileError(ValueError):
    """The file as a whole cannot be read (encoding, header, size, broken quoting)."""

    def __init__(self, message, line=1):
        super().__init__(message)
        self.line = line


class ImportConflict(Exception):
    """Writing a checked plan hit a database constraint (the data changed since the check, or a
    rule the check does not know): nothing was written; the message says so."""

    default_message = (
        "The import could not be saved, so nothing was imported: it clashes with data already "
        "stored (perhaps changed since the file was checked, or two names the database treats "
        "as the same). Check the file again to see the current state."
    )

    def __init__(self, message=None):
        super().__init__(message or self.default_message)


def import_writes(apply):
    """Decorator for an import's apply step (which writes in one transaction): a constraint
    violation becomes ImportConflict with a clear message instead of an IntegrityError, so
    neither the browser nor a command ever shows the person a database error."""

    @functools.wraps(apply)
    def wrapper(*args, **kwargs):
        try:
            return apply(*args, **kwargs)
        except IntegrityError as exc:
            raise ImportConflict() from exc

    return wrapper


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self):
        return f"line {self.line}: {self.message}"


def decode_upload(data: bytes) -> str:
    """Text of an uploaded CSV: UTF-8 (with or without BOM), else Windows-1252 (Excel's default)."""
    if b"\x00" in data:
        raise ImportFileError("The file contains NUL bytes; it does not look like a CSV text file.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise ImportFileError("The file is not UTF-8 or Windows-1252 text. Save it as 'CSV UTF-8'.") from exc


def clean_text(value):
    """Collapse runs of whitespace (including line breaks) to single spaces; strip the ends."""
    return " ".join((value or "").split())


def text_lines(text):
    """The lines of `text` one at a time, each with its line break, split like
    io.StringIO(text, newline="") would (at \\r\\n, \\r or \\n) but without StringIO's copy of
    the whole text (four bytes a character once read): for streaming a large file."""
    for match in _LINE.finditer(text):
        yield match.group()


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def read_header(reader, columns):
    """The header row of a csv.reader, lower-cased, checked against `columns` (ImportFileError)."""
    try:
        header = next(reader)
    except StopIteration as exc:
        raise ImportFileError("The file is empty: expected a header row with " + ",".join(columns)) from exc
    except csv.Error as exc:
        raise ImportFileError(f"The header row is not valid CSV: {exc}") from exc
    if len(header) > MAX_COLUMNS:
        raise ImportFileError(
            f"The header has {len(header):,} columns; an import file has at most {MAX_COLUMNS}. "
            "Expected: " + ",".join(columns)
        )
    header = [h.strip().lower() for h in header]
    duplicated = sorted(h for h, count in Counter(header).items() if count > 1)  # linear, not a count per cell
    if duplicated:
        raise ImportFileError(f"Duplicate column(s) in the header: {', '.join(duplicated)}")
    present, expected = set(header), set(columns)
    missing = [c for c in columns if c not in present]
    unknown = [h for h in header if h not in expected]
    if missing or unknown:
        parts = []
        if missing:
            parts.append("missing column(s): " + ", ".join(missing))
        if unknown:
            parts.append("unknown column(s): " + ", ".join(unknown))
        raise ImportFileError("The header is wrong (" + "; ".join(parts) + "). Expected: " + ",".join(columns))
    return header


def iter_values(reader, width, max_rows=MAX_ROWS):
    """(line number, [values]) for each data row of a csv.reader past its header, one at a time;
    (line number, message) for a row with the wrong number of values. Blank lines are skipped.
    ImportFileError past `max_rows` rows or at broken quoting."""
    count = 0
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            count += 1
            if count > max_rows:
                raise ImportFileError(f"The file has more than {max_rows:,} rows; split it into smaller files.")
            if len(values) != width:
                yield reader.line_num, f"expected {width} values, found {len(values)}"
            else:
                yield reader.line_num, values
    except csv.Error as exc:
        raise ImportFileError(f"not valid CSV ({exc}); check for an unclosed quote", line=reader.line_num) from exc


def read_rows(text, columns, max_rows=MAX_ROWS):
    """Check the header against `columns` and return [(line number, {column: value})].

    Blank lines are skipped. ImportFileError for a missing, unknown or duplicated column,
    a row with the wrong number of values is returned as-is for the row validator to report.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    header = read_header(reader, columns)
    rows = [
        (line, values if isinstance(values, str) else dict(zip(header, values, strict=True)))
        for line, values in iter_values(reader, len(header), max_rows)
    ]
    if not rows:
        raise ImportFileError("The file has a header but no data rows.")
    return rows


def check_rows(rows, validate, progress=None):
    """Run `validate(line, raw) -> row | [messages]` over every row; (valid rows, errors).

    `progress(done, total)` is called every 1,000 rows and at the end.
    """
    valid, errors = [], []
    total = len(rows)
    for index, (line, raw) in enumerate(rows, start=1):
        result = [raw] if isinstance(raw, str) else validate(line, raw)
        if isinstance(result, list):
            errors.extend(RowError(line, message) for message in result)
        else:
            valid.append(result)
        if progress and (index % 1000 == 0 or index == total):
            progress(index, total)
    return valid, errors


def check_file(text, columns, validate, progress=None):
    """read_rows + check_rows: (valid rows, errors), a file-level problem being one error."""
    try:
        rows = read_rows(text, columns)
    except ImportFileError as exc:
        return [], [RowError(exc.line, str(exc))]
    return check_rows(rows, validate, progress)
