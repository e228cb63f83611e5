"""The ``whatsapp`` section of the brand file: the brand's approved message templates, the only messages WhatsApp
lets a business send once the customer-service window is closed (24 hours after the customer's last message;
``domain.service_window``).

A template is approved in WhatsApp Manager first; this file names it as approved (``name`` and ``language`` exactly
as there), says what it reads (``body``, with ``{{1}}``, ``{{2}}`` … as WhatsApp numbers its variables) and what
fills each variable (``parameters``, in order): a fact of the ticket the product fills (:data:`FILLED`), or
``agent`` for a value the agent types when sending it. Agents choose among them when a reply is refused outside the
window (``usecases.desk.window``).
"""
from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from chalicelib.domain.config.base import _Model, _problem

#: What the product fills in a template's variable: the customer's name as acknowledgements greet them, the
#: ticket's reference, the link to its status page.
FILLED = ("customer_name", "reference", "status_link")
#: A variable the agent types when sending the template.
AGENT = "agent"
PARAMETERS = (*FILLED, AGENT)
#: WhatsApp's template categories (a service conversation is the free-form one inside the window).
Category = Literal["utility", "marketing", "authentication"]
#: The longest template body WhatsApp accepts, in characters.
MAX_BODY = 1024
_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
_VARIABLE = re.compile(r"\{\{\s*(\d+)\s*\}\}")


def body_variables(body: str) -> list[int]:
    """The numbers of the variables a body uses, in the order they appear (``{{1}}`` → 1)."""
    return [int(found) for found in _VARIABLE.findall(body)]


class WhatsAppTemplate(_Model):
    """One approved template, as WhatsApp Manager names it, what it reads and what fills its variables."""

    name: str
    language: str = "en"
    category: Category = "utility"
    body: str = Field(min_length=1, max_length=MAX_BODY)
    parameters: tuple[str, ...] = ()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise _problem(f"template name {value!r}: WhatsApp names use lowercase letters, digits and _ only")
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if not _LANGUAGE.match(value):
            raise _problem(f"language {value!r} must be a WhatsApp language code such as en or en_GB")
        return value

    @field_validator("parameters")
    @classmethod
    def _parameters(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [p for p in value if p not in PARAMETERS]
        if unknown:
            raise _problem(f"unknown parameter(s) {', '.join(map(repr, unknown))} (use {', '.join(PARAMETERS)})")
        return value

    @model_validator(mode="after")
    def _variables(self) -> WhatsAppTemplate:
        used = sorted(set(body_variables(self.body)))
        wanted = list(range(1, len(self.parameters) + 1))
        if used != wanted:
            numbers = ", ".join(str(n) for n in used) or "none"
            raise _problem(f"template {self.name!r}: the body's variables (numbers: {numbers}) must be 1 to "
                           f"{len(self.parameters)}, one for each of its {len(self.parameters)} parameter(s)")
        return self

    def render(self, values: list[str]) -> str:
        """The body as the customer reads it, ``values[i]`` in variable ``i + 1``."""
        return _VARIABLE.sub(lambda found: values[int(found.group(1)) - 1], self.body)

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "language": self.language, "category": self.category, "body": self.body,
                "parameters": list(self.parameters)}


class WhatsAppConfig(_Model):
    """``whatsapp: {templates: [...]}``."""

    templates: tuple[WhatsAppTemplate, ...] = ()

    @field_validator("templates")
    @classmethod
    def _once(cls, value: tuple[WhatsAppTemplate, ...]) -> tuple[WhatsAppTemplate, ...]:
        seen: set[tuple[str, str]] = set()
        for template in value:
            if (template.name, template.language) in seen:
                raise _problem(f"template {template.name!r} in {template.language} is defined twice")
            seen.add((template.name, template.language))
        return value

    def template(self, name: str, language: str = "") -> WhatsAppTemplate | None:
        """The template called ``name`` (in ``language`` when it has several; else its first), or None."""
        named = [t for t in self.templates if t.name == name]
        return next((t for t in named if t.language == language), named[0] if named else None)
