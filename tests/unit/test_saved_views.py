"""An agent keeps a desk's filtered list under a name and finds it again; the filters are checked as the list
checks them, and each agent's views are their own."""
from __future__ import annotations

import pytest

from chalicelib.usecases.desk.commands import ListFilters
from chalicelib.usecases.desk.saved_views import MAX_VIEWS, SaveView, delete_view, save_view, saved_views, view_json
from chalicelib.usecases.errors import Forbidden, Invalid, NotFound
from tests.unit.test_inbox import AMIRA, BEN, PRIYA
from tests.unit.test_inbox import day as day  # noqa: F401  (the fixture: a Wednesday, agents registered)


def test_a_view_is_kept_under_its_name_and_replaced_by_the_same_name(day):  # noqa: F811
    urgent = SaveView.from_json({"name": "Urgent complaints", "desk": "complaints", "priority": "urgent"})
    assert urgent.filters == ListFilters(priority="urgent")
    save_view(day, AMIRA, urgent)
    save_view(day, AMIRA, SaveView.from_json({"name": "Mine due soon", "desk": "journeys", "held_by": "mine",
                                              "due_within": "30", "sort": "sla"}))
    assert [(v.name, v.desk, dict(v.query)) for v in saved_views(day, AMIRA)] == [
        ("Mine due soon", "journeys", {"state": "claimed", "held_by": "mine", "due_within": "30", "sort": "sla"}),
        ("Urgent complaints", "complaints", {"priority": "urgent"})]
    save_view(day, AMIRA, SaveView.from_json({"name": "Urgent complaints", "desk": "complaints", "flag": "abuse"}))
    assert dict(saved_views(day, AMIRA)[1].query) == {"flag": "abuse"}
    assert saved_views(day, BEN) == []  # each agent's own
    assert view_json(saved_views(day, AMIRA)[1])["filters"] == {"flag": "abuse"}
    delete_view(day, AMIRA, "Urgent complaints")
    assert [v.name for v in saved_views(day, AMIRA)] == ["Mine due soon"]
    with pytest.raises(NotFound, match="no view named 'Urgent complaints'"):
        delete_view(day, AMIRA, "Urgent complaints")


@pytest.mark.parametrize(("data", "said"), [
    ({"name": "", "desk": "complaints"}, "name must be 1 to 40"),
    ({"name": "x" * 41, "desk": "complaints"}, "name must be 1 to 40"),
    ({"name": "<script>", "desk": "complaints"}, "name must be 1 to 40"),
    ({"name": "ok", "desk": ""}, "desk is required"),
    ({"name": "ok", "desk": "complaints", "priority": "high"}, "priority must be one of urgent, normal"),
    ({"name": "ok", "desk": "complaints", "due_within": "soon"}, "due_within is minutes"),
])
def test_a_bad_view_is_refused_with_why(data, said):
    with pytest.raises(Invalid, match=said):
        SaveView.from_json(data)


def test_only_a_desk_of_ones_own_and_a_handful_of_views(day):  # noqa: F811
    with pytest.raises(Forbidden, match="desk complaints is not one of yours"):
        save_view(day, PRIYA, SaveView.from_json({"name": "theirs", "desk": "complaints"}))
    with pytest.raises(NotFound, match="desk nowhere"):
        save_view(day, AMIRA, SaveView.from_json({"name": "nowhere", "desk": "nowhere"}))
    for n in range(MAX_VIEWS):
        save_view(day, BEN, SaveView.from_json({"name": f"view {n}", "desk": "complaints"}))
    with pytest.raises(Invalid, match=f"you keep {MAX_VIEWS} views at most"):
        save_view(day, BEN, SaveView.from_json({"name": "one more", "desk": "complaints"}))
    save_view(day, BEN, SaveView.from_json({"name": "view 3", "desk": "journeys"}))  # replacing one is fine
