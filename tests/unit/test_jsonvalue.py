"""The typed getters over JSON read from outside: each checks the value's type, and a wrong type reads as missing."""
from __future__ import annotations

import json

import pytest

from chalicelib.domain import jsonvalue as jv

DOC = json.loads("""{"name": "Pat", "count": 3, "flag": true, "ratio": 1.5, "none": null, "list": ["a", 1, {"b": 2}],
                     "user": {"id": "7"}, "users": [{"id": "1"}, "x", {"id": "2"}, null], "empty": {}}""")


def test_is_object_is_true_for_a_json_object_only():
    assert jv.is_object(DOC) and jv.is_object({}) and jv.is_object(DOC["user"])
    assert not any(jv.is_object(v) for v in (None, "x", 1, True, 1.5, [], [{}]))


@pytest.mark.parametrize("key, default, expected", [
    ("name", "", "Pat"), ("count", "", ""), ("flag", "", ""), ("none", "-", "-"), ("list", "", ""),
    ("user", "", ""), ("missing", "", ""), ("missing", "n/a", "n/a")])
def test_text_is_the_string_or_the_default(key, default, expected):
    assert jv.text(DOC, key, default) == expected


def test_optional_text_is_none_unless_a_string():
    assert jv.optional_text(DOC, "name") == "Pat"
    assert jv.optional_text(DOC, "count") is None and jv.optional_text(DOC, "missing") is None


@pytest.mark.parametrize("key, expected", [("count", 3), ("flag", 0), ("ratio", 0), ("name", 0), ("none", 0),
                                           ("missing", 0)])
def test_integer_is_a_whole_number_and_never_a_boolean(key, expected):
    assert jv.integer(DOC, key) == expected
    assert jv.integer(DOC, "flag", default=-1) == -1


def test_obj_is_the_object_or_an_empty_one():
    assert jv.obj(DOC, "user") == {"id": "7"}
    assert jv.obj(DOC, "name") == {} and jv.obj(DOC, "list") == {} and jv.obj(DOC, "missing") == {}
    assert jv.text(jv.obj(jv.obj(DOC, "missing"), "deeper"), "id") == ""  # reads chain without checks in between


def test_items_keeps_the_objects_of_a_list():
    assert jv.items(DOC, "users") == [{"id": "1"}, {"id": "2"}]
    assert jv.items(DOC, "user") == [] and jv.items(DOC, "name") == [] and jv.items(DOC, "missing") == []


def test_texts_keeps_the_strings_of_a_list():
    assert jv.texts(DOC, "list") == ["a"]
    assert jv.texts(DOC, "name") == [] and jv.texts(DOC, "missing") == []


def test_elements_walks_what_a_for_loop_walks_and_refuses_the_same():
    assert list(jv.elements(["a", 1])) == ["a", 1]
    assert list(jv.elements({"k": 1})) == ["k"]
    assert list(jv.elements("ab")) == ["a", "b"]
    for value in (1, 1.5, True, None):
        with pytest.raises(TypeError, match="not iterable"):
            jv.elements(value)
