"""The place sightings' contract (store.ports.PlaceSightings), in memory and on DynamoDB (moto, the template's
tables): the same fixtures as every other store's contract (tests/contract/test_stores)."""
from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

from bench.run import counting_aws_calls
from chalicelib.store.ports import Sighting, Suggestion
from tests.contract.test_stores import T0, dynamo_stores, stores, uid  # noqa: F401  # the fixtures, shared


def seen(place: str, minutes: float, key: str, **changes) -> Sighting:
    return Sighting(**{"place": place, "at": T0 + timedelta(minutes=minutes), "channel": "x", "ticket_id": "R-1",
                       "mention_key": key, "author": "traveller", "text": f"stuck at {place}",
                       "link": "https://x.com/i/status/1", **changes})


def test_a_places_sightings_come_back_in_their_window_oldest_first_once_per_message(stores):  # noqa: F811
    place = uid("Reading ")
    stores.sightings.add(seen(place, 2, "x#2", ticket_id="R-2", channel="bluesky", author="ann.bsky.social"))
    stores.sightings.add(seen(place, 0, "x#0"))
    stores.sightings.add(seen(place, 5, "x#5"))
    stores.sightings.add(seen(place, 2, "x#2", ticket_id="R-2", channel="bluesky", author="ann.bsky.social"))  # again
    stores.sightings.add(seen(place, 30, "x#30"))
    stores.sightings.add(seen(uid("Oxford "), 1, "x#1"))  # another place
    window = stores.sightings.between(place.upper(), T0, T0 + timedelta(minutes=5))  # any case names the place
    assert [s.mention_key for s in window] == ["x#0", "x#2", "x#5"]  # both ends included
    assert window[1] == seen(place, 2, "x#2", ticket_id="R-2", channel="bluesky", author="ann.bsky.social")
    assert stores.sightings.between(place, T0 + timedelta(minutes=6), T0 + timedelta(minutes=29)) == []
    assert stores.sightings.between(uid("Nowhere "), T0, T0 + timedelta(days=1)) == []


def test_a_forgotten_sighting_is_gone_and_the_others_stay(stores):  # noqa: F811
    place = uid("Bath Spa ")
    stores.sightings.add(seen(place, 1, "x#1"))
    stores.sightings.add(seen(place, 2, "x#2"))
    stores.sightings.forget(place.upper(), T0 + timedelta(minutes=1), "x#1")
    stores.sightings.forget(place, T0 + timedelta(minutes=9), "x#9")  # none there: nothing happens
    assert [s.mention_key for s in stores.sightings.between(place, T0, T0 + timedelta(minutes=5))] == ["x#2"]


def test_a_suggestion_is_written_by_compare_and_set_on_its_version(stores):  # noqa: F811
    place = uid("Swindon ")
    assert stores.sightings.suggestion(place) is None
    first = Suggestion(suggestion_id=uid("SUG-"), place=place, status="suggested", since=T0,
                       last_at=T0 + timedelta(minutes=4))
    assert stores.sightings.put_suggestion(first, expected=1) is False  # there is none yet
    assert stores.sightings.put_suggestion(first, expected=None) is True
    stored = stores.sightings.suggestion(place.lower())
    assert stored == replace(first, version=1)
    assert stores.sightings.put_suggestion(first, expected=None) is False  # there is one now
    declared = replace(stored, status="declared", decided_by="chloe", decided_at=T0 + timedelta(minutes=9),
                       incident_id="INC-1")
    assert stores.sightings.put_suggestion(declared, expected=1) is True
    assert stores.sightings.put_suggestion(replace(stored, status="dismissed"), expected=1) is False  # stale
    assert stores.sightings.suggestion(place) == replace(declared, version=2)
    assert replace(declared, version=2) in stores.sightings.suggestions()


def test_of_two_writers_at_once_one_wins(stores):  # noqa: F811
    place = uid("Slough ")
    base = Suggestion(suggestion_id=uid("SUG-"), place=place, status="suggested", since=T0, last_at=T0)
    assert stores.sightings.put_suggestion(base, expected=None)
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def write(n: int) -> None:
        barrier.wait()
        results.append(stores.sightings.put_suggestion(replace(base, decided_by=f"lead{n}"), expected=1))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
    assert stores.sightings.suggestion(place).version == 2


def test_on_dynamodb_a_sighting_is_one_write_and_a_window_one_query(dynamo_stores):  # noqa: F811
    place = uid("Bath Spa ")
    with counting_aws_calls() as calls:
        dynamo_stores.sightings.add(seen(place, 0, "x#a"))
    assert dict(calls) == {"dynamodb.PutItem": 1}
    with counting_aws_calls() as calls:
        dynamo_stores.sightings.between(place, T0 - timedelta(minutes=10), T0 + timedelta(minutes=10))
    assert dict(calls) == {"dynamodb.Query": 1}
