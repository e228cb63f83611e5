"""The learned triage scorer (``chalicelib/domain/scorer.py``) and its trainer (``tools/triage_train.py``): features
are deterministic, probabilities sum to 1, the shipped model file names its data and licence and fits its budget,
a trained file scores as the trainer's model did, and the trainer reproduces the shipped file.

The full reproduction (``make triage-train`` on the whole tuning part, about half a minute) runs when
``TRIAGE_TRAIN_FULL=1``; ``make test`` runs the same trainer on a small sample twice instead."""
from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.domain import scorer as scoring
from chalicelib.domain.config import INTENTS
from tools import triage_train

ROOT = Path(__file__).resolve().parents[2]
SIGNALS = {"rule:complaint": 2.0, "rule:question": 0.0, "rule:praise": 0.0, "rule:spam": 0.0, "rule:abuse": 0.0,
           "rule:other": 0.0, "sentiment": -0.6, "asks": 0.0, "passed_on": 0.0, "link_only": 0.0, "urgent": 0.0,
           "question_marks": 0.0, "exclamations": 1.0}


@pytest.fixture(scope="module")
def shipped() -> scoring.Scorer:
    model = scoring.default_scorer()
    assert model is not None, "chalicelib/triage_model.json is missing: make triage-train"
    return model


def test_features_are_deterministic_across_processes() -> None:
    text = "@MeridianRail my 07:12 was cancelled AGAIN 😡 https://t.co/x why?!"
    here = scoring.features(text, SIGNALS)
    assert here == scoring.features(text, dict(SIGNALS))
    code = ("import json, sys; from chalicelib.domain.scorer import features; "
            "print(json.dumps(features(sys.argv[1], json.loads(sys.argv[2]))))")
    import json
    out = subprocess.run([sys.executable, "-c", code, text, json.dumps(SIGNALS)], cwd=ROOT, capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "123"})
    assert [tuple(pair) for pair in json.loads(out.stdout)] == here
    assert all(0 <= index < 2 ** scoring.HASH_BITS for index, _ in here)
    # mentions and links are not words; digits fold together
    assert scoring.features("@Someone late again https://t.co/abc", {}) == scoring.features("late again", {})
    assert scoring.features("the 07:12", {}) == scoring.features("the 08:45", {})


def test_probabilities_sum_to_one(shipped: scoring.Scorer) -> None:
    for text in ("", "thanks!", "my train is late again and nobody tells us anything", "🙂" * 300):
        probabilities = shipped.probabilities(text, SIGNALS)
        assert set(probabilities) == set(INTENTS)
        assert math.isclose(sum(probabilities.values()), 1.0, abs_tol=1e-9)
        assert all(0.0 <= p <= 1.0 for p in probabilities.values())


def test_the_shipped_model_names_its_data_and_licence_and_fits_its_budget(shipped: scoring.Scorer) -> None:
    assert scoring.MODEL_PATH.stat().st_size <= 2_000_000
    meta = shipped.meta
    assert "CC BY-NC-SA 4.0" in meta["licence"]
    (source,) = meta["trained_on"]
    assert source["file"] == "tests/fixtures/triage_eval.csv" and source["part"].startswith("tuning")
    assert source["sha256"] == triage_train.sha256(ROOT / source["file"]), "the labelled set changed: retrain"
    assert source["rows"] == meta["rows"] > 1000
    assert {"apology", "thanks", "question", "silence", "silence_no_thanks"} <= set(shipped.thresholds)
    silence = meta["thresholds"]["silence"]
    assert silence["complaint_answered"] >= 0.97 and silence["question_answered"] >= 0.97
    assert [point["threshold"] for point in meta["curve"]["silence"]] == list(triage_train.CURVE)
    assert meta["date"] and meta["training"]["seed"] == triage_train.SEED


def test_a_complaint_and_praise_land_on_their_sides(shipped: scoring.Scorer) -> None:
    from bench.triage_accuracy import DEFAULT_CONFIG
    from chalicelib.configfile import load_config
    from chalicelib.domain.triage import triage

    config = load_config(DEFAULT_CONFIG)

    def probabilities(text: str) -> dict[str, float]:
        return shipped.probabilities(text, triage(text, channel="x", config=config).signals)

    complaint = probabilities("@MeridianRail my train was cancelled again and nobody told us, 2 hours waiting")
    praise = probabilities("@MeridianRail thank you so much, the staff on the 9:15 were lovely and so helpful!")
    assert complaint["complaint"] > complaint["praise"] and complaint["complaint"] > 0.5
    assert praise["praise"] > praise["complaint"] and praise["praise"] > 0.5
    assert triage_train.silence_score(complaint) < shipped.thresholds["silence"]


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["tweet_id", "text", "intent", "urgent"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def synthetic(path: Path) -> Path:
    phrases = {
        "complaint": ["my train was cancelled again", "still waiting for my refund, awful", "delayed and no info"],
        "question": ["what time is the last train to leeds?", "can I take a bike on board?", "is the app down?"],
        "praise": ["thank you, lovely staff", "great service today, thanks!", "brilliant journey, well done"],
        "other": ["ok", "just on my way home", "see you there"],
        "spam": ["win a free iphone click here", "follow for follow", "cheap followers"],
        "abuse": ["you are idiots", "useless morons", "idiots the lot of you"],
    }
    rows = []
    for intent, texts in phrases.items():
        for i in range(6):
            rows.append({"tweet_id": f"{intent}{i}", "text": f"{texts[i % 3]} {i}", "intent": intent, "urgent": "no"})
    return write_csv(path, rows)


def test_trainer_file_scorer_round_trip(tmp_path: Path) -> None:
    data = synthetic(tmp_path / "labels.csv")
    out = tmp_path / "model.json"
    assert triage_train.main(["--labelled", str(data), "--only", "--licence", "test data", "--out", str(out),
                              "--folds", "3", "--epochs", "5", "--date", "2026-01-01"]) == 0
    loaded = scoring.Scorer.load(out)
    rows = triage_train.load_labelled(data)
    signals = triage_train.row_signals(rows, triage_train.DEFAULT_CONFIG)
    trained = triage_train.build(rows, signals, epochs=5)
    for row, signal in zip(rows, signals, strict=True):
        assert loaded.probabilities(row["text"], signal) == trained.probabilities(row["text"], signal)
    assert loaded.meta["licence"] == "test data" and loaded.meta["rows"] == 36
    assert loaded.meta["trained_on"][0]["part"] == "all"
    # the same data give the same file, byte for byte
    again = tmp_path / "again.json"
    assert triage_train.main(["--labelled", str(data), "--only", "--licence", "test data", "--out", str(again),
                              "--folds", "3", "--epochs", "5", "--date", "2026-01-01"]) == 0
    assert again.read_bytes() == out.read_bytes()


def test_only_needs_a_labelled_file() -> None:
    with pytest.raises(SystemExit):
        triage_train.main(["--only"])


@pytest.mark.skipif(os.environ.get("TRIAGE_TRAIN_FULL") != "1", reason="TRIAGE_TRAIN_FULL=1: about half a minute")
def test_make_triage_train_reproduces_the_shipped_file(tmp_path: Path, shipped: scoring.Scorer) -> None:
    out = tmp_path / "model.json"
    assert triage_train.main(["--out", str(out), "--date", shipped.meta["date"]]) == 0
    assert out.read_bytes() == scoring.MODEL_PATH.read_bytes()
