"""Comment safety review: find patient identifiers, contact details, members' names and
self-identifying phrases in a free-text comment, and say where they are (DESIGN.md §5).

Pure Python (standard library, `phonenumbers`, `nhs-number`; no Django, no ORM). Build one
`Detector` per trust from its people list and directorate names, then call `find(text)`: a list
of `Finding(kind, start, end, text)`, sorted by start and never overlapping (where two findings
overlap the longer span wins; on a tie, the kind earlier in `KINDS`). `redact()` replaces the
spans by "[removed]"; `warning_messages()` gives one plain sentence per kind for the rating page.

What is detected (kinds):

- `nhs_number`: 10 digits written "9434765919", "943 476 5919" or "943-476-5919" whose modulus-11
  check digit is right (`nhs_number.is_valid`, which also rejects Scottish CHI numbers whose
  first six digits are not a date). Ten digits with a wrong check digit are not NHS numbers;
  they are reported only if they also parse as a valid UK phone number. Digits inside longer
  numbers ("£1,234,567,890", "12345678901") are not considered.
- `email`: addresses of the form local@domain.tld.
- `phone`: numbers `phonenumbers.PhoneNumberMatcher` finds with region GB and leniency VALID
  (landlines, mobiles, 0800, +353 ... with a country code); also UK mobile-shaped numbers
  (07xxx xxxxxx, +44 7xxx xxxxxx) that are only *possible*, such as Ofcom's reserved drama
  range 07700 900xxx, because a mistyped or unallocated mobile is still meant as contact
  details; and internal contact numbers: "ext 4321", "ext. 4321", "extension 4321", "x4321",
  "bleep 1234", "bleep no. 1234", "pager 1234" (3–6 digits; "x" needs 4–5).
- `postcode`: full UK postcodes ("SW1A 1AA", "m1 1ae", "M11AE"); an outward code alone
  ("SW1A", "M1") is not. Because case is ignored, "FY25 2nd" or "L1 1pm" would look like
  postcodes: an inward code that reads as an ordinal (1st, 2nd, 3rd, 4th ...) or as am/pm is
  taken as a postcode only when the whole match is in capitals.
- `date_of_birth`: full dates (day, month and year) written 12/03/1956, 12.03.56, 12-03-1956,
  1956-03-12, 3 March 1956, 3rd of Mar 1956, March 3, 1956. A date labelled "DOB", "d.o.b.",
  "date of birth" or "born (on)" is always flagged, label included, as is a labelled year or
  month and year ("born 1956", "born in March 1956"). An unlabelled full date is flagged when
  its year is from 1900 to two years before today's year: dates this year and last year read
  as meeting or rota references, later ones as deadlines ("by 31/03/2027"), so an unlabelled
  date of birth of a child under about two is missed. A month and year alone ("March 2026")
  is never a date of birth. Numeric dates are read day first; when that is not a date
  (03/25/1956) month first. Two-digit years up to two years ahead are this century (in 2026:
  28 → 2028, 29 → 1929, 56 → 1956); "." and "-" dates with a two-digit year need two-digit
  days and months, so "4.3.12" (a section number) is not a date.
- `member_name`: the trust's own members, matched on words after folding (NFKD, combining
  marks stripped, a few letters NFKD keeps apart such as ø, ł, æ mapped, casefolded), so
  "Siobhán O'Neill", "siobhan o’neill", "SIOBHAN ONEILL" and "O Neill's" all match. Titles in
  the people list (Dr, Mr, Mrs, Ms, Miss, Mx, Prof, Professor, Sir, Dame) are ignored. A full
  name (first and last; with or without middle names) always matches; so does the last name
  alone when it has at least 3 letters and is not on `SURNAME_STOP_WORDS`, a list of surnames
  that are also everyday words ("White", "Long", "Hope", "May", "Ward", "Dean", "Grant" ...).
  A short or stop-listed last name matches only after a title ("Dr White", "Mr. Long"). First
  names alone never match. Matching is word-bounded ("Patelson" is not "Patel"), a possessive
  "'s" is left outside the span, words of a full name must be separated by spaces or hyphens
  only (so "grace, hope" is not "Grace Hope"), and "Patel-led" matches Patel. Double-barrelled
  and particle surnames match whole ("Smith-Jones", "van der Berg"), and a hyphenated one also
  by each part of 3 letters or more that is not a stop word. A one-word entry in the people
  list is taken as a surname.
- `self_identifying`: phrases that narrow the writer down to one person. The list, and why:
  1. "the only / sole / one and only <up to 4 words ending in a role>" (consultant, anaesthetist,
     woman, lead, -ologist, -ician ...): being the only one of something is the classic
     give-away. The role must end the noun phrase and be singular, so "the only consultant job
     plan", "the only way to" and "the only consultants who came" are not flagged. "the only
     one" needs in/on/at/here/who/covering/doing after it. "the first / most senior doctor" is
     not a trigger on its own (it is how people describe a duty), only after "I am" or "as".
  2. "I am / I'm / I was the <role>" (optionally "only"): claims a singular post, including
     "I was the first consultant ...".
  3. "as the <role>" (including "as the newest / longest-serving consultant"), "in my role as
     (the) <role>", and "as a/an <post>" for posts that few people hold (lead, director, chair,
     guardian, tutor, champion, coordinator): speaking from a named post. "as a consultant" is
     not flagged (there are many), nor "such as the ...", nor "as the consultants lead ...".
  4. "as (deputy/associate/divisional) clinical/medical director", "as clinical/medical lead",
     and named single posts ("as guardian of safe working", "as college tutor", "as Caldicott
     guardian", "as chief registrar", "as head of service", "as director of medical education",
     "as rota coordinator"), with or without "the".
  5. "my (own) directorate / department / division / team / service / specialty / unit / ward /
     care group" next to one of the trust's directorate names, joined only by punctuation or a
     few small words ("my team in Medicine", "Surgery, my directorate,", "my directorate
     (Women's and Children's)"): names the writer's directorate. Without a directorate name it
     is not flagged: every member has a department.
  6. "my <weekday> (morning/afternoon) clinic / list / theatre list / session / ward round", "my
     own ward / clinic / list / theatre list / service / unit", and "my ward" with a ward number
     ("my ward (Ward 12)", "Ward 12 is my ward"): a particular list or ward has one owner.
     Plain "my clinic" or "my list" is not flagged: every consultant has them.
  7. "I have been / worked here (at this trust, in this hospital, in this department, a
     consultant here ...) for N years", "in my N years here", "after N years at this trust":
     long tenure in one place is rare and easy to look up.

What is not detected (the review queue and the warning on the rating page are the safety net):
hospital or case-note numbers and other local identifiers, addresses without a postcode,
patients' names (we have only members' names), names of people who are not members, nicknames
and misspellings ("Priya Rahman" for Raman), plural or typo'd surnames ("the Patels"), names
written in another order with a comma ("Patel, Asha" matches only as "Patel"), ages ("aged 84"),
obfuscated contact details ("asha dot patel at nhs dot net"), phone numbers of other countries
without a country code, US month-first dates that are also valid day-first dates, dates with
the month in words before the year without a day ("born March 1956" is caught only through the
label), and self-descriptions outside the phrase list ("I run the Tuesday endoscopy service on
my own"). The phrase rules also fire on phrases that single out someone else ("the only
consultant on the panel was outvoted"), reported as `self_identifying`: worth a review, but not
the writer. The detector errs towards flagging: a flagged comment is only held for review.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from itertools import product

import phonenumbers
from nhs_number import is_valid as _nhs_number_is_valid

NHS_NUMBER = "nhs_number"
EMAIL = "email"
PHONE = "phone"
POSTCODE = "postcode"
DATE_OF_BIRTH = "date_of_birth"
MEMBER_NAME = "member_name"
SELF_IDENTIFYING = "self_identifying"
KINDS = (NHS_NUMBER, EMAIL, PHONE, POSTCODE, DATE_OF_BIRTH, MEMBER_NAME, SELF_IDENTIFYING)

REMOVED = "[removed]"

WARNINGS = {
    NHS_NUMBER: "This looks like an NHS number — please remove patient details.",
    EMAIL: "This looks like an email address — please remove contact details.",
    PHONE: "This looks like a phone, extension or bleep number — please remove contact details.",
    POSTCODE: "This looks like a postcode — please remove addresses and patient details.",
    DATE_OF_BIRTH: "This looks like a date of birth — please remove patient details.",
    MEMBER_NAME: "This names someone in the trust — please describe the issue without naming people.",
    SELF_IDENTIFYING: (
        "This may identify you (your post, your team or your list) — comments stay anonymous only "
        "if anyone in your group could have written them."
    ),
}


@dataclass(frozen=True)
class Finding:
    """One thing found: its kind (one of `KINDS`), its span in the original text and that text."""

    kind: str
    start: int
    end: int
    text: str


# --- Folding: accent-, case- and apostrophe-insensitive text, with a map back to the original ---

_EXTRA_FOLDS = str.maketrans(
    {
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "æ": "ae",
        "œ": "oe",
        "ı": "i",
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "`": "'",
        "´": "'",
        "‐": "-",
        "‑": "-",
        "–": "-",
        "—": "-",
    }
)


@functools.lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return kept.casefold().translate(_EXTRA_FOLDS)


def fold(text: str) -> tuple[str, list[int] | None]:
    """The folded text and, for each of its characters, the index of the original character it
    came from (None when folding kept every character in place, as for ASCII text)."""
    if text.isascii():
        return text.lower().replace("`", "'"), None
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        pieces.append(folded)
        origin.extend([index] * len(folded))
    return "".join(pieces), origin


def _original_span(origin: list[int] | None, start: int, end: int) -> tuple[int, int]:
    if origin is None:
        return start, end
    return origin[start], origin[end - 1] + 1


# --- Names ---

TITLES = frozenset({"dr", "mr", "mrs", "ms", "miss", "mx", "prof", "professor", "sir", "dame"})
# In comments a stop-listed surname also counts after these (people write "Sister Hope").
_TEXT_TITLES = TITLES | {"doctor", "sister"}
_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "da", "di", "du", "del", "della", "la", "le", "st", "ter", "ten", "mac"}
)

# Surnames that are everyday English words (or words everywhere in NHS comments, like "Ward",
# "Dean", "Grant", "Major"): alone they would flag benign comments, so they match only in a full
# name or after a title. Kept short and tested; add to it when a real surname causes noise.
SURNAME_STOP_WORDS = frozenset(
    """
    able abbott archer bach back baker bank banks barber baron bay beach bean bear bell best
    bird bishop black blank bliss bloom bolt bond booth bowl bowman brain branch brand bridge
    bright brook brooks brown buck bull bunch burn burns bush butcher butler cake call camp can
    cannon care carpenter carter case cash castle chance chapel chase cheese church clay close
    coates coke cole collar cook cooper cope cork cotton cross crown cure dale dance dawn day
    dean death derby dew diamond doctor dove drake dyer early east eve fair faith farmer field
    fields finch fish fisher fletcher flower ford forest fortune fowler fox free french frost fry
    gale gardener gates gay gill glass gold golden good grace grant gray green grey guest hale
    hall hand hard hardy hart hay head heath hill holly hood hook hope horn house hunt hunter
    ivy jolly joy judge keen key keys king kite knight lamb lane large law lawless lay lee little
    lock long lord love low lucky major march mark marks marsh mason may mayor mercy merry mild
    mill miller mills moon moore moss mould nash new newman noble north nurse oak page paine
    palmer park parker parks parsons patience peace pearl penny pepper pike pile pine pool pope
    porter post potter pound power powers price prince proud punch rain read reed rich ridge ring
    rivers robin rock rose rush sage salt sands savage searle sharp shepherd short silver slater
    small smart snow south spark sparks speed spring squire stables stark steel stone storm
    strange street strong summer summers swan sweet swift tall taylor temple thrower toll town
    tucker turner vale vicar wade wagstaff wait walker wall walls ward warden warner waters
    watts weaver webb webber wells west white wild will wise wolf wood woods worth wren wright
    young
    """.split()
)

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_NAME_GAP = re.compile(r"[\s\-]+")
_TITLE_GAP = re.compile(r"\.?\s+")

_FULL = 1  # a full name: matches wherever it is written
_ALONE = 2  # a last name that matches alone
_TITLED = 4  # a last name that matches only after a title


def _letters(token: str) -> int:
    return len(token) - token.count("'")  # name words are letters and apostrophes


def _spellings(tokens: list[str]) -> set[tuple[str, ...]]:
    """Ways of writing a name's words: "o'neill" also as "oneill" and as "o", "neill"."""
    options = []
    for token in tokens:
        if "'" in token:
            options.append([(token,), (token.replace("'", ""),), tuple(token.split("'"))])
        else:
            options.append([(token,)])
    return {tuple(word for part in choice for word in part) for choice in product(*options)}


@functools.lru_cache(maxsize=65536)
def _name_word_parts(word: str) -> tuple[str, ...]:
    """The folded words of one whitespace-separated piece of a name ("Smith-Jones" → smith, jones)."""
    return tuple(_WORD.findall(word.lower() if word.isascii() else fold(word)[0]))


def _add_name_keys(keys: dict[tuple[str, ...], int], full_name: str) -> None:
    """Add the word sequences one member's name is matched by, with how each may match."""
    words = full_name.replace(",", " ").split()
    while words and words[0].strip(".").casefold() in TITLES:
        words.pop(0)
    parts = [p for p in map(_name_word_parts, words) if p]
    if not parts:
        return
    surname_start = len(parts) - 1
    while surname_start > 1 and all(t in _PARTICLES for t in parts[surname_start - 1]):
        surname_start -= 1
    surname = [t for p in parts[surname_start:] for t in p]

    def add(tokens: list[str], flag: int) -> None:
        if "'" not in "".join(tokens):
            key = tuple(tokens)
            keys[key] = keys.get(key, 0) | flag
            return
        for spelling in _spellings(tokens):
            keys[spelling] = keys.get(spelling, 0) | flag

    if len(parts) > 1:
        add([*parts[0], *surname], _FULL)
        if surname_start > 1:  # middle names: the name as written matches too
            add([t for p in parts for t in p], _FULL)
    if len(surname) > 1:
        add(surname, _ALONE)
        if surname_start == len(parts) - 1:  # hyphenated, not a particle name: each part too
            for token in surname:
                add([token], _ALONE if _surname_alone(token) else _TITLED)
    else:  # a one-word name is taken as a surname
        add(surname, _ALONE if _surname_alone(surname[0]) else _TITLED)


def _surname_alone(token: str) -> bool:
    return _letters(token) >= 3 and token.replace("'", "") not in SURNAME_STOP_WORDS


class _NameIndex:
    """Every member's name as word sequences in one dict: a scan is a few lookups per word."""

    def __init__(self, member_names: Iterable[str]) -> None:
        self.keys: dict[tuple[str, ...], int] = {}
        for name in member_names:
            _add_name_keys(self.keys, name)
        self.longest = max((len(k) for k in self.keys), default=0)

    def find(self, folded: str) -> list[tuple[int, int]]:
        if not self.keys:
            return []
        words = [_word_span(m) for m in _WORD.finditer(folded)]
        joined = [
            i + 1 < len(words) and _NAME_GAP.fullmatch(folded, words[i][2], words[i + 1][1]) for i in range(len(words))
        ]
        spans = []
        i = 0
        while i < len(words):
            length = self._match_at(folded, words, joined, i)
            if length:
                spans.append((words[i][1], words[i + length - 1][2]))
                i += length
            else:
                i += 1
        return spans

    def _match_at(self, folded: str, words: list, joined: list, i: int) -> int:
        for length in range(min(self.longest, len(words) - i), 0, -1):
            if length > 1 and not all(joined[i : i + length - 1]):
                continue
            flag = self.keys.get(tuple(w[0] for w in words[i : i + length]), 0)
            if flag & (_FULL | _ALONE) and not (length == 1 and flag == _FULL):
                return length
            if flag & _TITLED and self._after_title(folded, words, i):
                return length
        return 0

    @staticmethod
    def _after_title(folded: str, words: list, i: int) -> bool:
        return (
            i > 0
            and words[i - 1][0] in _TEXT_TITLES
            and bool(_TITLE_GAP.fullmatch(folded, words[i - 1][2], words[i][1]))
        )


def _word_span(match: re.Match) -> tuple[str, int, int]:
    """A word with a possessive "'s" (or a trailing "'") left out of it."""
    word, start, end = match.group(), match.start(), match.end()
    if word.endswith("'s") and len(word) > 2:
        return word[:-2], start, end - 2
    return word, start, end


# --- NHS numbers, emails, phones, postcodes ---

_NHS = re.compile(r"(?<![\d.,£$€])(\d{3})([ -]?)(\d{3})\2(\d{4})(?!\d)(?![.,]\d)")
_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+'-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}\b"
)
_EXTENSION = re.compile(
    r"\b(?:(?:ext(?:ension|n)?|bleep|blp|pager)\.?(?:\s+(?:no|number|num)\.?)?\s*[:#]?\s*\d{3,6}"
    r"|x\d{4,5})(?![\d]|[.,]\d)",
    re.IGNORECASE,
)
_PHONE_MIN_DIGITS = 7
# UK mobiles, allocated or not (libphonenumber rejects unallocated ranges such as Ofcom's drama
# numbers 07700 900xxx): 07 or +44 7 / 0044 7 / +44 (0)7, then nine more digits, spaced as people do.
_UK_MOBILE = re.compile(r"(?<![\w+])(?:(?:\+|00)44[\s-]?(?:\(0\)[\s-]?)?|\(?0)7(?:[\s)-]{0,2}\d){9}(?![\d])(?![.,]\d)")
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])"
    r"(?P<outward>[A-PR-UWYZ](?:\d[A-HJKPSTUW]|\d\d?|[A-HK-Y]\d[ABEHMNPRV-Y]|[A-HK-Y]\d\d?))"
    r" ?(?P<inward>\d[ABD-HJLNP-UW-Z]{2})(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_NOT_INWARD_UNLESS_CAPITALS = re.compile(r"(?:1st|2nd|3rd|[04-9]th|\dam|\dpm|\dhr)", re.IGNORECASE)


def _nhs_numbers(text: str) -> list[tuple[int, int]]:
    return [
        (m.start(), m.end())
        for m in _NHS.finditer(text)
        if _nhs_number_is_valid(m.group().replace(" ", "").replace("-", ""))
    ]


def _emails(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _EMAIL.finditer(text)]


def _phones(text: str) -> list[tuple[int, int]]:
    spans = [(m.start(), m.end()) for m in _EXTENSION.finditer(text)]
    spans.extend((m.start(), m.end()) for m in _UK_MOBILE.finditer(text))
    if sum(char.isdigit() for char in text) >= _PHONE_MIN_DIGITS:
        matcher = phonenumbers.PhoneNumberMatcher(text, "GB", leniency=phonenumbers.Leniency.VALID)
        spans.extend((match.start, match.end) for match in matcher)
    return spans


def _postcodes(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _POSTCODE.finditer(text):
        if _NOT_INWARD_UNLESS_CAPITALS.fullmatch(match.group("inward")) and not match.group().isupper():
            continue
        spans.append((match.start(), match.end()))
    return spans


# --- Dates of birth ---

_MONTH_NUMBERS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_LABEL = r"(?P<label>\b(?:d\.?\s?o\.?\s?b\b\.?|date\s+of\s+birth|born(?:\s+(?:on|in))?)\s*[:\-]?\s*)"
_DATE = re.compile(
    rf"{_LABEL}?(?<![\w/.\-])(?:"
    r"(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})"
    r"|(?P<nd>\d{1,2})(?P<sep>[/.\-])(?P<nm>\d{1,2})(?P=sep)(?P<ny>\d{4}|\d{2})"
    rf"|(?P<wd>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+(?P<wm>{_MONTH})\.?,?\s+(?P<wy>\d{{4}}|'\d{{2}})"
    rf"|(?P<vm>{_MONTH})\.?\s+(?P<vd>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<vy>\d{{4}})"
    r")(?![\w])(?![/.\-]\d)",
    re.IGNORECASE,
)
_BORN_YEAR = re.compile(
    rf"{_LABEL}(?:(?P<month>{_MONTH})\.?\s+)?(?P<year>(?:19|20)\d{{2}})(?![\w])(?![/.\-]\d)", re.IGNORECASE
)


_TWO_DIGIT_FUTURE_YEARS = 2  # "by 31/3/27" in 2026 is a deadline in 2027, not a birth in 1927


def _full_year(digits: str, today: date) -> int:
    digits = digits.lstrip("'")
    if len(digits) == 4:
        return int(digits)
    year = int(digits)
    return 2000 + year if year <= today.year % 100 + _TWO_DIGIT_FUTURE_YEARS else 1900 + year


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _parsed_date(m: re.Match, today: date) -> date | None:
    if m.group("iy"):
        return _safe_date(int(m.group("iy")), int(m.group("im")), int(m.group("id")))
    if m.group("nd"):
        day, month, year_digits = m.group("nd"), m.group("nm"), m.group("ny")
        if len(year_digits) == 2 and m.group("sep") != "/" and (len(day) < 2 or len(month) < 2):
            return None  # "4.3.12" is a section or version number
        year = _full_year(year_digits, today)
        return _safe_date(year, int(month), int(day)) or _safe_date(year, int(day), int(month))
    if m.group("wd"):
        month = _MONTH_NUMBERS[m.group("wm")[:3].lower()]
        return _safe_date(_full_year(m.group("wy"), today), month, int(m.group("wd")))
    month = _MONTH_NUMBERS[m.group("vm")[:3].lower()]
    return _safe_date(int(m.group("vy")), month, int(m.group("vd")))


def _dates_of_birth(text: str, today: date) -> list[tuple[int, int]]:
    spans = []
    for match in _DATE.finditer(text):
        when = _parsed_date(match, today)
        if when is None:
            continue
        if match.group("label") or 1900 <= when.year <= today.year - 2:
            spans.append((match.start(), match.end()))
    for match in _BORN_YEAR.finditer(text):
        if 1900 <= int(match.group("year")) <= today.year:
            spans.append((match.start(), match.end()))
    return spans


# --- Self-identifying phrases (run on folded text) ---

_FUNCTION_WORDS = frozenset(
    """
    a about after all also among amongst an and any are as at be because been before being but by
    can could covering did do does doing down during each either ever every for from had has have
    he her here his how i if in into is it its just left me might must my no nor not of on once
    only onto or our out over own shall she should since so some still than that the their
    them then there these they this those though through to under until up us very was we were
    what when where which while who whom why will with within would yet you your across
    """.split()
)
_ROLES = frozenset(
    """
    anaesthetist anesthetist surgeon physician doctor registrar trainee locum gp nurse midwife
    manager director lead clinician pharmacist therapist physiotherapist radiographer sister
    matron chair chairman chairwoman woman man female male mum mother father parent person member
    women men fellow specialist intensivist consultant guardian tutor champion coordinator co-ordinator rep
    representative head dentist sonographer orthoptist dietitian dietician podiatrist
    phlebotomist scientist administrator secretary porter supervisor mentor educator trainer
    """.split()
)
_SINGLE_POSTS = frozenset(
    "lead director chair chairman chairwoman guardian tutor champion coordinator co-ordinator head".split()
)
_ROLE_SUFFIX = re.compile(r"[a-z]{2,}(?:ologist|iatrist|ician|trician)")
_ONE_FOLLOWERS = frozenset("in on at here who covering doing working".split())
_NEXT_WORD = re.compile(r"\s+([\w'-]+)")

_ROLE_TRIGGERS = (  # (trigger, which words may head the phrase after it)
    (re.compile(r"\bthe (?:only|sole|one and only)\b"), "role"),
    (re.compile(r"\bi(?:'m| am| was)(?: (?:currently|now|also|still|actually))? the(?: (?:only|sole))?\b"), "role"),
    (re.compile(r"(?<!such )\bas the\b"), "role"),  # also "as the newest / longest-serving <role>"
    (re.compile(r"\bmy role as(?: the| a| an)?\b"), "role"),
    (re.compile(r"(?<!such )\bas (?:a|an)\b"), "post"),
)

_NUMBER_WORDS = (
    r"(?:\d{1,2}\+?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen"
    r"|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty)"
    r"(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?"
)
_HERE = (
    r"(?:here|at (?:this|the) (?:trust|hospital)|in (?:this|the) (?:trust|hospital|department|directorate|unit)"
    r"|on (?:this|the) (?:unit|ward))"
)
_MY_UNIT = (
    r"my (?:own )?(?:directorate|department|dept|division|team|service|specialty|speciality|unit|ward|care group)"
)
_WEEKDAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_FIXED_PHRASES = tuple(
    re.compile(p)
    for p in (
        r"\bas (?:the )?(?:(?:deputy|associate|divisional|assistant|acting|interim) )?"
        r"(?:clinical|medical) (?:director|lead)\b",
        r"\bas (?:the )?(?:guardian of safe working(?: hours)?|freedom to speak up guardian|college tutor"
        r"|caldicott guardian|chief registrar|head of service|director of medical education|rota co-?ordinator"
        r"|chief of service|divisional director|care group director)\b",
        rf"\bmy (?:own )?{_WEEKDAY}(?: (?:morning|afternoon|evening|all[- ]day|am|pm))?"
        r" (?:clinics?|lists?|theatre lists?|operating lists?|endoscopy lists?|sessions?|ward rounds?)\b",
        r"\bmy own (?:ward|clinic|list|theatre list|operating list|service|unit|team)\b",
        r"\bmy (?:own )?ward\b[\s,:(\-]*(?:(?:is|was) )?(?:ward )?\d{1,3}[a-z]?\b",
        r"\bward \d{1,3}[a-z]?\)?(?: is| was|,|\s*\(|\s*-)?\s*my (?:own )?ward\b",
        rf"\bi(?:'ve| have)? (?:been|worked)(?: (?:a|an) [\w-]+)? {_HERE}(?: for)? (?:over |more than |nearly |almost "
        rf"|about |around |just over |just under )?{_NUMBER_WORDS} years\b",
        rf"\b(?:in|after) (?:all )?(?:my )?(?:over )?{_NUMBER_WORDS} years (?:as (?:a|an) [\w-]+ )?{_HERE}",
    )
)
_UNIT_GAP = re.compile(r"[\s,:()\-]*(?:(?:is|was|in|at|of|for|the|within|on|here|which|namely|part)[\s,:()\-]+)*")
_UNIT_GAP_MAX = 40  # characters between "my team" and a directorate name


def _is_role(word: str, heads: str = "role") -> bool:
    if heads == "post":
        return word in _SINGLE_POSTS
    return word in _ROLES or bool(_ROLE_SUFFIX.fullmatch(word))


def _is_plural_role(word: str) -> bool:
    return word.endswith("s") and len(word) > 3 and _is_role(word[:-1])


def _role_phrase_end(folded: str, start: int, heads: str) -> int | None:
    """Where the noun phrase after a trigger ends, if its last word (the head) is a role; None if not.
    Plural heads do not count: "the only consultants who came" speaks of a group."""
    words: list[tuple[str, int]] = []
    position = start
    while len(words) < 5:
        match = _NEXT_WORD.match(folded, position)
        if not match or match.group(1) in _FUNCTION_WORDS:
            break
        words.append((match.group(1), match.end()))
        position = match.end()
    if not words or len(words) > 4:
        return None  # nothing, or more than four content words: not a short noun phrase
    if words[0][0] == "one":  # "the only one": only "the only one in/on/at/here/who/covering ..."
        follower = _NEXT_WORD.match(folded, words[0][1])
        return follower.end() if follower and follower.group(1) in _ONE_FOLLOWERS else None
    if len(words) > 1 and _is_plural_role(words[-2][0]):
        return None  # "as the consultants lead the change": the head is a verb after a plural subject
    head, end = words[-1]
    return end if _is_role(head, heads) else None


class _PhraseIndex:
    def __init__(self, directorate_names: Iterable[str]) -> None:
        patterns = sorted(
            {_directorate_pattern(n) for n in directorate_names if fold(n)[0].strip()}, key=len, reverse=True
        )
        self.directorates = re.compile(r"\b(?:" + "|".join(patterns) + r")(?!\w)") if patterns else None

    def find(self, folded: str) -> list[tuple[int, int]]:
        spans = []
        for trigger, heads in _ROLE_TRIGGERS:
            for match in trigger.finditer(folded):
                end = _role_phrase_end(folded, match.end(), heads)
                if end is not None:
                    spans.append((match.start(), end))
        for pattern in _FIXED_PHRASES:
            spans.extend((m.start(), m.end()) for m in pattern.finditer(folded))
        spans.extend(self._unit_with_directorate(folded))
        return spans

    def _unit_with_directorate(self, folded: str) -> list[tuple[int, int]]:
        if self.directorates is None or "my " not in folded:
            return []
        names = [(m.start(), m.end()) for m in self.directorates.finditer(folded)]
        spans = []
        for unit in re.finditer(rf"\b{_MY_UNIT}\b", folded):
            for start, end in names:
                if unit.start() - _UNIT_GAP_MAX <= end <= unit.start() and _UNIT_GAP.fullmatch(
                    folded, end, unit.start()
                ):
                    spans.append((start, unit.end()))
                elif unit.end() <= start <= unit.end() + _UNIT_GAP_MAX and _UNIT_GAP.fullmatch(
                    folded, unit.end(), start
                ):
                    spans.append((unit.start(), end))
        return spans


def _directorate_pattern(name: str) -> str:
    words = re.findall(r"[\w']+|&", fold(name)[0])
    pieces = []
    for word in words:
        if word in ("and", "&"):
            pieces.append(r"(?:and|&)")
        else:
            pieces.append(re.escape(word).replace("'", "'?"))
    return r"[\s,]+".join(pieces)


# --- The detector ---


class Detector:
    """Finds what a comment should not carry. Build once per trust (cheap: a dict of name words
    and one regex of directorate names) and reuse for every comment."""

    def __init__(
        self,
        *,
        member_names: Iterable[str] = (),
        directorate_names: Iterable[str] = (),
        today: date | None = None,
    ) -> None:
        self._names = _NameIndex(member_names)
        self._phrases = _PhraseIndex(directorate_names)
        self._today = today

    def find(self, text: str) -> list[Finding]:
        """What was found in `text`, sorted by start, non-overlapping (the longer span wins)."""
        if not text:
            return []
        today = self._today or date.today()
        candidates: list[tuple[str, int, int]] = []
        for kind, spans in (
            (NHS_NUMBER, _nhs_numbers(text)),
            (EMAIL, _emails(text)),
            (PHONE, _phones(text)),
            (POSTCODE, _postcodes(text)),
            (DATE_OF_BIRTH, _dates_of_birth(text, today)),
        ):
            candidates.extend((kind, start, end) for start, end in spans)
        folded, origin = fold(text)
        for kind, spans in ((MEMBER_NAME, self._names.find(folded)), (SELF_IDENTIFYING, self._phrases.find(folded))):
            candidates.extend((kind, *_original_span(origin, start, end)) for start, end in spans)
        return [Finding(kind, start, end, text[start:end]) for kind, start, end in _without_overlaps(candidates)]


def _without_overlaps(candidates: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Longest spans first (then the kind earlier in KINDS, then the earlier start); a candidate
    overlapping one already kept is dropped."""
    kept: list[tuple[str, int, int]] = []
    order = sorted(candidates, key=lambda c: (-(c[2] - c[1]), KINDS.index(c[0]), c[1]))
    for kind, start, end in order:
        if end > start and all(end <= s or start >= e for _, s, e in kept):
            kept.append((kind, start, end))
    return sorted(kept, key=lambda c: c[1])


def redact(text: str, findings: Iterable[Finding]) -> str:
    """`text` with each finding's span replaced by "[removed]" (overlapping or touching spans
    become one "[removed]"; spans outside the text are ignored)."""
    spans = sorted((f.start, f.end) for f in findings if 0 <= f.start < f.end <= len(text))
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces, position = [], 0
    for start, end in merged:
        pieces.append(text[position:start])
        pieces.append(REMOVED)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def warning_messages(findings: Iterable[Finding]) -> list[str]:
    """One sentence per kind found, in the order of `KINDS`."""
    found = {f.kind for f in findings}
    return [WARNINGS[kind] for kind in KINDS if kind in found]
