"""The ``saved_replies`` section of the brand file: the team's canned answers, each a template an agent inserts into
the reply box, edits and sends (``usecases.desk.saved_replies`` renders them for one ticket).

An entry: ``id``, ``title``, ``desks`` (empty: every desk), ``language`` (empty: the brand's) and ``text``, a
template of the one template environment (``domain.templates``) that may use :data:`SAVED_REPLY_VARIABLES` only.
Leads add more from the inbox (stored apart, checked by the same :func:`saved_reply_problem`); the brand file's
entries are read-only there.
"""
from __future__ import annotations

import re

from pydantic import Field, field_validator

from chalicelib.domain import templates
from chalicelib.domain.config.base import _check_id, _Model, _problem

#: What a saved reply's text may use: the customer's name as acknowledgements greet them, the ticket's reference and
#: status link (empty where the reply may carry no link), when the ticket's desk next opens (empty while it is
#: open) and the active incident linked to the ticket or matching it (empty when none).
SAVED_REPLY_VARIABLES = frozenset(
    {"name", "reference", "status_url", "eta", "incident_title", "incident_text", "incident_url"}
)
#: The longest title and text of a saved reply (a reply is checked against its channel's limit when rendered).
MAX_TITLE = 80
MAX_TEXT = 4000
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


class SavedReply(_Model):
    id: str
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    desks: tuple[str, ...] = ()
    language: str = ""  # empty: the brand's language
    text: str = Field(min_length=1, max_length=MAX_TEXT)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _check_id(value, "saved reply")

    @field_validator("language")
    @classmethod
    def _lang(cls, value: str) -> str:
        if value and not _LANGUAGE.match(value):
            raise _problem(f"language {value!r} must be an ISO 639 code such as en")
        return value

    def in_language(self, default: str) -> str:
        """The entry's language, ``default`` (the brand's) when it names none."""
        return self.language or default

    def for_desk(self, desk: str) -> bool:
        return not self.desks or desk in self.desks


def saved_reply_problem(source: str) -> str | None:
    """Why ``source`` cannot be a saved reply's text (it does not parse in the template environment, or uses a
    variable a saved reply is not given), or None."""
    try:
        unknown = templates.undeclared_variables(source) - SAVED_REPLY_VARIABLES
    except templates.TemplateSyntaxError as exc:
        return f"template does not parse: {exc.message} (template line {exc.lineno})"
    if unknown:
        return (f"unknown template variable(s) {', '.join(sorted(unknown))} "
                f"(available: {', '.join(sorted(SAVED_REPLY_VARIABLES))})")
    return None
