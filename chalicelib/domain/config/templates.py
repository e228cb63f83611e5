"""The ``templates`` section of the brand file: kind → channel (or default) → language → template source, the
variables a template may use, and the check that each one parses and uses only those."""
from __future__ import annotations

from chalicelib.domain import templates
from chalicelib.domain.config.base import Location

TemplateSet = dict[str, dict[str, dict[str, str]]]  # kind → channel|default → language → jinja2 source
TEMPLATE_VARIABLES = frozenset(
    {
        "name",
        "reference",
        "back_at",
        "back_in",
        "status_url",
        "incident_title",
        "incident_url",
        "incident_text",
        "incident_change",
        "dm_invite",
        "desk",
        "expected_wait",
        "ask_for",
    }
)


def _template_problems(loc: Location, source: str) -> list[tuple[Location, str]]:
    """A template must parse in the environment customers' texts are rendered with, and use only the
    variables the product gives it."""
    try:
        unknown = templates.undeclared_variables(source) - TEMPLATE_VARIABLES
    except templates.TemplateSyntaxError as exc:
        return [(loc, f"template does not parse: {exc.message} (template line {exc.lineno})")]
    if unknown:
        return [(loc, f"unknown template variable(s) {', '.join(sorted(unknown))} "
                      f"(available: {', '.join(sorted(TEMPLATE_VARIABLES))})")]
    return []
