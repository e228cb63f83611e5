"""Triage accuracy against hand-labelled real first contacts.

    python bench/triage_accuracy.py [--config chalicelib/brand.yaml] [--labelled tests/fixtures/triage_labelled.csv]
                                    [--show-errors]

The labelled slice holds first contacts (inbound tweets that open a conversation) drawn at random from
the "Customer Support on Twitter" sample (76 brands, 2017), each read and labelled by hand:

* intent: complaint (reports a fault or failure, or voices dissatisfaction), question (asks for
  information or help in a neutral tone), praise (thanks, enthusiasm), spam (promotions and broadcast
  marketing), abuse (insults or threats aimed at the brand or its staff), other (chatter, jokes, no ask);
* priority: urgent (safety risk or injury, stranded now, vulnerable customer, threat of harm), else normal.

Prints intent accuracy (against the majority-class baseline), per-intent precision / recall, urgent
precision / recall, a confusion table and the time per message, all measured in this run.
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chalicelib.configfile import load_config  # noqa: E402
from chalicelib.domain.config import INTENTS  # noqa: E402
from chalicelib.domain.triage import triage  # noqa: E402

DEFAULT_CONFIG = ROOT / "chalicelib" / "brand.yaml"
DEFAULT_LABELLED = ROOT / "tests" / "fixtures" / "triage_labelled.csv"


def load_labelled(path: Path = DEFAULT_LABELLED) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def evaluate(config_path: Path = DEFAULT_CONFIG, labelled_path: Path = DEFAULT_LABELLED) -> dict:
    """Run triage over the labelled slice; return the figures and the per-row results."""
    config = load_config(config_path)
    rows = load_labelled(labelled_path)
    started = time.perf_counter()
    results = [triage(row["text"], channel="x", config=config) for row in rows]
    elapsed = time.perf_counter() - started

    confusion: Counter = Counter()
    for row, result in zip(rows, results, strict=True):
        confusion[(row["intent"], result.intent)] += 1
    correct = sum(n for (truth, guess), n in confusion.items() if truth == guess)
    truth_counts = Counter(row["intent"] for row in rows)
    majority, majority_n = truth_counts.most_common(1)[0]

    per_intent = {}
    for intent in INTENTS:
        tp = confusion[(intent, intent)]
        predicted = sum(n for (_, guess), n in confusion.items() if guess == intent)
        actual = truth_counts[intent]
        per_intent[intent] = {
            "precision": tp / predicted if predicted else None,
            "recall": tp / actual if actual else None,
            "support": actual,
        }

    pairs = list(zip(rows, results, strict=True))
    urgent_tp = sum(1 for row, r in pairs if row["priority"] == "urgent" and r.priority == "urgent")
    urgent_fp = sum(1 for row, r in pairs if row["priority"] != "urgent" and r.priority == "urgent")
    urgent_fn = sum(1 for row, r in pairs if row["priority"] == "urgent" and r.priority != "urgent")
    no_ack_truth = {"praise", "spam", "abuse"}
    ack_agree = sum(1 for row, r in pairs if (row["intent"] not in no_ack_truth) == r.acknowledge)
    return {
        "n": len(rows),
        "accuracy": correct / len(rows),
        "baseline": majority_n / len(rows),
        "baseline_intent": majority,
        "ack_agreement": ack_agree / len(rows),
        "per_intent": per_intent,
        "urgent_precision": urgent_tp / (urgent_tp + urgent_fp) if urgent_tp + urgent_fp else None,
        "urgent_recall": urgent_tp / (urgent_tp + urgent_fn) if urgent_tp + urgent_fn else None,
        "urgent_counts": {"tp": urgent_tp, "fp": urgent_fp, "fn": urgent_fn},
        "confusion": confusion,
        "ms_per_message": 1000 * elapsed / len(rows),
        "rows": rows,
        "results": results,
    }


def _pct(value: float | None) -> str:
    return "  n/a" if value is None else f"{100 * value:5.1f}%"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--labelled", type=Path, default=DEFAULT_LABELLED)
    parser.add_argument("--show-errors", action="store_true", help="list every misclassified message")
    args = parser.parse_args(argv)
    figures = evaluate(args.config, args.labelled)

    print(f"labelled first contacts: {figures['n']}")
    print(
        f"intent accuracy:         {_pct(figures['accuracy'])}   "
        f"(always '{figures['baseline_intent']}': {_pct(figures['baseline'])}; "
        f"ratio {figures['accuracy'] / figures['baseline']:.2f}x)"
    )
    print(f"ack / no-ack agreement:  {_pct(figures['ack_agreement'])}")
    counts = figures["urgent_counts"]
    print(
        f"urgent precision:        {_pct(figures['urgent_precision'])}   recall: {_pct(figures['urgent_recall'])}   "
        f"(tp {counts['tp']}, fp {counts['fp']}, fn {counts['fn']})"
    )
    print(f"time per message:        {figures['ms_per_message']:.3f} ms")
    print()
    print(f"{'intent':<10} {'precision':>9} {'recall':>7} {'support':>7}")
    for intent, stats in figures["per_intent"].items():
        print(f"{intent:<10} {_pct(stats['precision']):>9} {_pct(stats['recall']):>7} {stats['support']:>7}")
    print()
    print("confusion (rows: label, columns: triage)")
    print(f"{'':<10}" + "".join(f"{i[:9]:>10}" for i in INTENTS))
    for truth in INTENTS:
        print(f"{truth:<10}" + "".join(f"{figures['confusion'][(truth, guess)]:>10}" for guess in INTENTS))
    if args.show_errors:
        print()
        for row, result in zip(figures["rows"], figures["results"], strict=True):
            if row["intent"] != result.intent or row["priority"] != result.priority:
                text = row["text"].replace("\n", " ")[:110]
                label, guess = f"{row['intent']}/{row['priority']}", f"{result.intent}/{result.priority}"
                print(f"{row['tweet_id']:>6} {label} -> {guess}: {text}")
                print(f"{'':>6} {' | '.join(result.reasons[:2])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
