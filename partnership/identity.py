"""The one normalisation of sign-in identifiers (email addresses) and of names that must be
unique apart from case (directorates).

Every path that takes an address from a person or a file (sign-in, the lockout counter,
password reset, invitations, the imports) and every stored address go through
`normalise_email`, so that "BM4@south.nhs.uk", " bm4@SOUTH.nhs.uk" and "bm4@south.nhs.uk" are
one identifier everywhere: one account, one lockout counter, one invitation.

`name_key` is deliberately coarser than the database's lower(), which decides the
directorate-name unique constraint: two names with equal keys are the same name to a person,
so a file spelling a name two ways is a per-line error instead of a database error.
"""

import unicodedata


def normalise_email(value):
    """An address as stored and compared: Unicode NFKC (as Django's username fields do),
    surrounding whitespace stripped, case-folded."""
    return unicodedata.normalize("NFKC", value or "").strip().casefold()


def name_key(value):
    """The key under which two names count as the same: whitespace collapsed, NFKC, case-folded,
    then accents and other combining marks dropped. "IT", "it" and "İT" (whose case folding
    leaves a combining dot that PostgreSQL's lower() does not) share one key."""
    folded = unicodedata.normalize("NFKC", " ".join((value or "").split())).casefold()
    decomposed = unicodedata.normalize("NFD", folded)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def axes_username(request, credentials=None):
    """AXES_USERNAME_CALLABLE: the lockout counts attempts per normalised address, so spelling
    the address differently never earns fresh guesses."""
    from django.conf import settings

    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        raw = credentials.get(field)
    else:
        raw = getattr(request, "data", request.POST).get(field) if request is not None else None
    return normalise_email(raw) if raw is not None else None
