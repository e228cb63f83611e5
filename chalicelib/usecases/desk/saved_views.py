"""An agent's saved views: a desk's list with its filters, under a name of the agent's choosing ("urgent on
complaints", "mine due soon"), one click from the inbox page, ``inbox views`` in the terminal and
``GET /agent/views``. Each agent's own; the filters are checked as the list checks them (``ListFilters``)."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.domain.agent import Agent
from chalicelib.services import Services
from chalicelib.store.ports import SavedView
from chalicelib.usecases.desk.access import covered_desks, on_call
from chalicelib.usecases.desk.commands import ListFilters
from chalicelib.usecases.errors import Forbidden, Invalid, NotFound

#: The most views an agent keeps
MAX_VIEWS = 20
_NAME = re.compile(r"[\w][\w .,'&+-]{0,39}")


@dataclass(frozen=True)
class SaveView:
    """``{"name", "desk", ...filters}``: a name (1 to 40 letters, digits, spaces, ``.,'&+-``), a desk, and the
    desk list's filters (``state``, ``priority``, ``flag``, ``channel``, ``held_by``, ``due_within``, ``sort``)."""

    name: str
    desk: str
    filters: ListFilters

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> SaveView:
        name, desk = data.get("name"), data.get("desk")
        if not isinstance(name, str) or not _NAME.fullmatch(name.strip()):
            raise Invalid("name must be 1 to 40 letters, digits, spaces or .,'&+-", details={"name": "invalid"})
        if not isinstance(desk, str) or not desk.strip():
            raise Invalid("desk is required", details={"desk": "required"})
        query = {k: str(v) for k, v in data.items() if k not in ("name", "desk") and isinstance(v, (str, int))}
        return cls(name.strip(), desk.strip(), ListFilters.from_query(query))

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> SaveView:
        return cls.from_json(dict(form))


def _may_list(svc: Services, agent: Agent, desk: str) -> None:
    if desk not in svc.config.desks:
        raise NotFound(f"desk {desk} (desks: {', '.join(svc.config.desk_ids)})")
    if not (agent.lead or on_call(svc, agent) or desk in covered_desks(svc, agent)):
        raise Forbidden(f"desk {desk} is not one of yours: {', '.join(covered_desks(svc, agent)) or 'none'}")


def saved_views(svc: Services, agent: Agent) -> list[SavedView]:
    """The agent's views, by name."""
    return svc.views.of(agent.username)


def save_view(svc: Services, agent: Agent, command: SaveView) -> SavedView:
    """Keep the list under its name (the same name again replaces it)."""
    _may_list(svc, agent, command.desk)
    mine = svc.views.of(agent.username)
    if len(mine) >= MAX_VIEWS and all(v.name != command.name for v in mine):
        raise Invalid(f"you keep {MAX_VIEWS} views at most: delete one first", details={"name": "too many"})
    view = SavedView(name=command.name, desk=command.desk, query=command.filters.to_query(), at=svc.now())
    svc.views.put(agent.username, view)
    return view


def delete_view(svc: Services, agent: Agent, name: str) -> None:
    if not svc.views.delete(agent.username, name):
        raise NotFound(f"you have no view named {name!r}")


def view_json(view: SavedView) -> dict[str, object]:
    return {"name": view.name, "desk": view.desk, "filters": dict(view.query), "at": view.at.isoformat()}
