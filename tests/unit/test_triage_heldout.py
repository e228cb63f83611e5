"""Triage on the held-out part of the labelled tweets, through the real triage function and the real brand file.

The held-out part (30 % of tests/fixtures/triage_eval.csv, chosen by a hash of the tweet id) is never used to
tune rules: it measures them. The issue's targets are below; where the rules do not reach one yet, the test
holds the figure measured when the rules were frozen (see the README's triage figures), so any regression fails
`make test`, and the target stays visible as an expected failure until it is reached.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: The targets on the held-out part: nobody who complains or asks is left in silence, no complaint thanked, hardly
#: any praise or chit-chat apologised to, and triage (rules + learned scorer) under a millisecond.
TARGETS = {"complaint_acked": 0.97, "question_acked": 0.97, "complaints_thanked": 0.005,
           "praise_other_apologised": 0.03, "ms_per_message": 1.0}
#: Measured on the held-out part with the learned scorer (2026-12-07, model trained on the tuning part): complaints
#: 423 of 423 answered, questions 95 of 96, praise + other 199 of 266 (neutral or thanks: harmless), spam + abuse
#: 8 of 16 (the rules' spam and abuse are always silent; these are the ones the rules miss); first contacts apart:
#: complaints 221 of 221, questions 56 of 57. A change that does worse fails.
FLOORS = {"complaint_acked": 423 / 423, "question_acked": 95 / 96}
FIRST_CONTACT_FLOORS = {"complaint_acked": 221 / 221, "question_acked": 56 / 57}
SPAM_ABUSE_ANSWERED_CEILING = 0.5
#: The held-out part's size: 30 % of the 2,778 labelled tweets by the hash, of which 458 were labelled twice.
HELDOUT_N, SECOND_N = 801, 458


@pytest.fixture(scope="module")
def heldout():
    sys.path.insert(0, str(ROOT))
    try:
        from bench.triage_accuracy import evaluate
    finally:
        sys.path.remove(str(ROOT))
    return evaluate(part="heldout")


def test_the_heldout_part_is_the_fixed_30_percent(heldout):
    assert heldout["n"] == HELDOUT_N
    assert {row["part"] for row in heldout["rows"]} == {"heldout"}


def test_no_regression_on_the_heldout_part(heldout):
    # the whole part, and its first contacts apart
    for found, floors in ((heldout["ack"], FLOORS), (heldout["by_kind"]["no"], FIRST_CONTACT_FLOORS)):
        assert found["complaint"]["rate"] >= floors["complaint_acked"], found["complaint"]
        assert found["question"]["rate"] >= floors["question_acked"], found["question"]
    assert heldout["ack"]["spam_abuse"]["rate"] <= SPAM_ABUSE_ANSWERED_CEILING, heldout["ack"]["spam_abuse"]


def test_triage_is_not_an_order_of_magnitude_over_its_budget(heldout):
    # The 1 ms budget is measured by the benchmark (make bench / make triage-report print it: 0.67 ms with the
    # scorer on an idle machine), not by a timed test on a machine shared with other tests; this only catches a
    # change that makes triage several times slower (the fastest of the timed passes).
    assert heldout["ms_per_message_best"] < 5 * TARGETS["ms_per_message"], heldout["ms_per_message_best"]


def test_urgent_messages_are_found(heldout):
    # 7 urgent messages in the held-out part (2026-12-06, 3 of them replies): 5 found, none wrongly (one first
    # contact and one reply missed)
    counts = heldout["urgent_counts"]
    assert counts["tp"] + counts["fn"] == 7
    assert counts["tp"] >= 5 and heldout["urgent_precision"] >= 0.8, counts


def test_the_targets_on_the_heldout_part(heldout):
    sys.path.insert(0, str(ROOT))
    try:
        from bench.triage_accuracy import tone_figures
    finally:
        sys.path.remove(str(ROOT))
    ack = heldout["ack"]
    assert ack["complaint"]["rate"] >= TARGETS["complaint_acked"], ack["complaint"]
    assert ack["question"]["rate"] >= TARGETS["question_acked"], ack["question"]
    harm = tone_figures(heldout["replies"])
    assert harm["complaints_thanked"] <= TARGETS["complaints_thanked"], heldout["replies"]["complaint"]
    assert harm["praise_other_apologised"] <= TARGETS["praise_other_apologised"], heldout["replies"]
    # every labelled row got exactly one of the replies (or none)
    for name, row in heldout["replies"].items():
        assert sum(row[c] for c in ("silent", "neutral", "apology", "question", "thanks")) == row["n"], name


def test_the_second_labelling_covers_the_heldout_part_and_agrees_closely(heldout):
    """The held-out part of the first 1,579 labelled tweets labelled again, independently: 458 held-out tweets, valid
    labels, and an agreement high enough that the targets above are not beyond what the labels can tell (the report
    prints the figures)."""
    import csv

    from chalicelib.domain.config import INTENTS

    sys.path.insert(0, str(ROOT))
    try:
        from bench.triage_accuracy import SECOND_LABELS, agreement
    finally:
        sys.path.remove(str(ROOT))
    with open(SECOND_LABELS, newline="", encoding="utf-8") as handle:
        second = list(csv.DictReader(handle))
    heldout_ids = {row["tweet_id"] for row in heldout["rows"]}
    assert len(second) == SECOND_N and {r["tweet_id"] for r in second} <= heldout_ids
    assert {r["intent"] for r in second} <= set(INTENTS) and {r["urgent"] for r in second} <= {"yes", "no"}
    found = agreement(heldout)
    assert found["n"] == SECOND_N and found["kappa"] >= 0.8 and found["ack_truth_agreement"] >= 0.95
