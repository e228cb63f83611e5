"""What every section of the brand file shares: the ``_Model`` base of its models, the located problem, the id and
time zone checks, and the spellings of priorities and intents (``sla``, ``triage``).

Nothing here names a section of its own; each section's models live in the module named after it.
"""
from __future__ import annotations

import re
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

from chalicelib.domain.vocabulary import Intent, Priority

#: A priority and an intent as the brand file spells them: the text of a ``vocabulary.Priority`` and of a
#: ``vocabulary.Intent`` (``tests/unit/test_vocabulary.py`` checks they agree), kept as Literals so that the file's
#: validation messages stay as they are.
PriorityName = Literal["urgent", "normal"]
IntentName = Literal["complaint", "question", "praise", "spam", "abuse", "other"]
#: Where a value sits in the file: mapping keys and sequence indexes from the top, e.g. ("teams", "day", "slots", 1).
Location = tuple[Any, ...]

PRIORITIES: tuple[Priority, ...] = tuple(Priority)
INTENTS: tuple[Intent, ...] = tuple(Intent)
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def _problem(message: str) -> PydanticCustomError:
    # Braces in the message would be read as placeholders by pydantic.
    return PydanticCustomError("config", message.replace("{", "(").replace("}", ")"))


def _check_id(value: str, what: str) -> str:
    if not isinstance(value, str) or not ID_RE.match(value):
        raise _problem(f"invalid {what} id {value!r}: use lowercase letters, digits and _ , starting with a letter")
    return value


def _check_timezone(value: str) -> str:
    if not isinstance(value, str) or not value:
        raise _problem("time zone must be an IANA name such as Europe/London")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _problem(f"unknown IANA time zone {value!r}") from None
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
