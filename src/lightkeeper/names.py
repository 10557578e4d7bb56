"""The one rule for names people pick, and the range of ids.

Models, deployments and gold datasets are named once and then show up everywhere: in
URLs, file paths, database rows, MLflow aliases, metric labels and command lines. So one
rule, safe in all of those, holds for every one of them: ASCII letters, digits, ``-`` and
``_``, at most :data:`MAX_NAME_LENGTH` characters, starting with a letter or a digit (a
leading ``-`` would read as a command-line option, a leading ``_`` or ``.`` as something
hidden). Names are checked where they are created, in the feature layer, so the CLI,
the HTTP API and the Python API refuse the same names with the same message; looking a
name up needs no check (a name that cannot exist is simply not found).

Ids (gate runs, alarms, monitor results, tokens) and version numbers are ``INTEGER``
columns of the ops database, 32-bit on PostgreSQL; a number outside 1 to :data:`MAX_ID`
cannot be one, and the HTTP API and the CLI refuse it before it reaches the database
(where SQLite would overflow past 64 bits and PostgreSQL past 32).
"""

from __future__ import annotations

import re

from lightkeeper.errors import InvalidInput

MAX_NAME_LENGTH = 100
NAME_PATTERN = rf"[A-Za-z0-9][A-Za-z0-9_-]{{0,{MAX_NAME_LENGTH - 1}}}"
NAME_RULE = (
    f"ASCII letters, digits, '-' and '_', starting with a letter or a digit, "
    f"at most {MAX_NAME_LENGTH} characters"
)
MAX_ID = 2**31 - 1
"""The largest id or version number: PostgreSQL's ``INTEGER``, the smaller of the two
databases' ranges."""

_NAME = re.compile(NAME_PATTERN)
_SHOWN = 60  # characters of a refused name repeated in the message


def is_name(value: object) -> bool:
    """Whether ``value`` follows the name rule."""
    return isinstance(value, str) and _NAME.fullmatch(value) is not None


def check_name(value: str, what: str) -> str:
    """Return ``value`` if it follows the name rule.

    Args:
        value: the name.
        what: what is named, for the message: ``deployment``, ``model``, ``gold dataset``.

    Raises:
        InvalidInput: the name breaks the rule; the message names it and the rule.
    """
    if is_name(value):
        return value
    text = str(value)
    shown = repr(text) if len(text) <= _SHOWN else f"{text[:_SHOWN]!r}... ({len(text)} characters)"
    raise InvalidInput(
        f"{what} name {shown} is not a valid name",
        hint=f"name a {what} with {NAME_RULE}, for example credit-risk_2",
    )


def check_version(version: int | str) -> int | str:
    """Return ``version`` (a number, ``latest`` or an alias) if a number in it is in range.

    Raises:
        InvalidInput: a number outside 1 to :data:`MAX_ID`, or written with digits other
            than 0-9 (``²``), which no version can have.
    """
    text = str(version).strip()
    if not text.isdigit() and not (text.startswith("-") and text[1:].isdigit()):
        return version  # ``latest`` or an alias: the registry knows
    if not (text.isascii() and 1 <= int(text) <= MAX_ID):
        shown = text if len(text) <= _SHOWN else f"{text[:_SHOWN]}..."
        raise InvalidInput(
            f"version {shown} is not a version number",
            hint=f"version numbers are whole numbers from 1 to {MAX_ID}; "
            "or give 'latest' or an alias such as champion",
        )
    return version
