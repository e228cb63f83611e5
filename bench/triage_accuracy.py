"""Triage report: intent, urgency and the acknowledgement decision against hand-labelled real tweets.

    python bench/triage_accuracy.py [--config chalicelib/brand.yaml] [--labelled tests/fixtures/triage_eval.csv]
                                    [--part tuning|heldout|both|all] [--show-errors]

``make triage-report LABELLED=triage-labels.csv`` measures triage on a file of the inbox's labels instead (agents
label tickets' first messages; leads download the file from the oversight page or ``GET /agent/labels``): every
row at once, each triaged on its own channel.

The labelled set (``tests/fixtures/triage_eval.csv``, see ``tests/fixtures/README.md``) holds every inbound tweet
of the "Customer Support on Twitter" sample (2,778), each read and labelled by hand following
``docs/triage-labelling.md``; its ``reply`` column tells a first contact (``no``) from a reply inside a conversation
(``yes``). A fixed hash of the tweet id puts 30 % of them in a held-out part (:func:`part_of`) that rules are never
tuned on: the report measures it, and never lists its messages.

Printed for each part: precision and recall per intent and a confusion matrix; the acknowledgement decision
(truth: complaints and questions are acknowledged, nothing else is) as precision and recall, and as the share
acknowledged of complaints, questions, praise + other (chit-chat, news, no ask), spam and abuse, for the whole part
and apart for first contacts and for replies (:data:`KINDS`); urgent
precision and recall; the time triage takes per message. The held-out part was labelled a second time, independently
(``tests/fixtures/triage_heldout_second.csv``): the report gives the two labellings' agreement and the figures on the
rows both agree on. ``--show-errors`` lists the tuning part's mistakes only.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chalicelib.configfile import load_config  # noqa: E402
from chalicelib.domain.config import INTENTS  # noqa: E402
from chalicelib.domain.triage import triage  # noqa: E402

DEFAULT_CONFIG = ROOT / "chalicelib" / "brand.yaml"
DEFAULT_LABELLED = ROOT / "tests" / "fixtures" / "triage_eval.csv"
#: The held-out part labelled a second time, independently (``tests/fixtures/README.md``).
SECOND_LABELS = ROOT / "tests" / "fixtures" / "triage_heldout_second.csv"
PARTS = ("tuning", "heldout")
#: What a brand answers: a complaint or a question gets the acknowledgement, nothing else does.
ACK_TRUTH = frozenset({"complaint", "question"})
#: The two kinds of message the labelled set holds (its ``reply`` column): a customer's first message to the brand,
#: and a reply inside a conversation (which, in the product, usually joins an open ticket that was answered already).
KINDS = (("no", "first contacts"), ("yes", "replies"))
#: How many passes over the messages the timing takes (the median pass is reported).
TIMING_ROUNDS = 5


def part_of(tweet_id: str) -> str:
    """``heldout`` for 30 % of the tweets, fixed by a hash of the id (never by their content), else ``tuning``."""
    digest = hashlib.sha256(f"triage-split:{tweet_id}".encode()).hexdigest()
    return "heldout" if int(digest[:8], 16) % 10 < 3 else "tuning"


#: The columns a labelled file must have (an export of the inbox's labels has them, and more).
REQUIRED_COLUMNS = ("tweet_id", "text", "intent", "urgent")


class LabelledFileError(ValueError):
    """A labelled file the report cannot read: which file, and what is wrong with it, for a person."""


def load_labelled(path: Path = DEFAULT_LABELLED, part: str | None = None) -> list[dict[str, str]]:
    """The labelled rows (with their ``part``), all of them or one part's. A file without the columns, or with an
    intent the product does not know, is refused with the line at fault (``LabelledFileError``)."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise LabelledFileError(f"{path}: no column {', '.join(missing)} (the first line must name "
                                        f"{', '.join(REQUIRED_COLUMNS)}; an inbox download has them)")
            rows = []
            for row in reader:
                if row["intent"] not in INTENTS or row["urgent"] not in ("yes", "no"):
                    raise LabelledFileError(f"{path}, line {reader.line_num}: intent must be one of "
                                            f"{', '.join(INTENTS)} and urgent yes or no, not "
                                            f"{row['intent']!r} and {row['urgent']!r}")
                rows.append(dict(row, part=part_of(row["tweet_id"])))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LabelledFileError(f"{path}: cannot be read as a UTF-8 CSV file ({exc})") from None
    return [row for row in rows if part is None or row["part"] == part]


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def evaluate(config_path: Path = DEFAULT_CONFIG, labelled_path: Path = DEFAULT_LABELLED,
             part: str | None = "heldout") -> dict[str, Any]:
    """Run the real triage over one part of the labelled set (``None``: all of it); the figures and the results.
    A file the report cannot use, or a part without a row, raises ``LabelledFileError``."""
    config = load_config(config_path)
    rows = load_labelled(labelled_path, part)
    if not rows:
        raise LabelledFileError(f"{labelled_path}: no labelled row{' in the ' + part + ' part' if part else ''}"
                                " (agents label tickets on their page; download again later)")
    texts = [row["text"] for row in rows]
    channels = [row.get("channel") or "x" for row in rows]  # an export of agents' labels names each row's channel
    results = [triage(text, channel=channel, config=config)  # also warms the compiled rules
               for text, channel in zip(texts, channels, strict=True)]
    passes = []
    for _ in range(TIMING_ROUNDS):
        started = time.perf_counter()
        for text, channel in zip(texts, channels, strict=True):
            triage(text, channel=channel, config=config)
        passes.append(time.perf_counter() - started)

    confusion: Counter[tuple[str, str]] = Counter()
    for row, result in zip(rows, results, strict=True):
        confusion[(row["intent"], result.intent)] += 1
    correct = sum(n for (truth, guess), n in confusion.items() if truth == guess)
    truth_counts = Counter(row["intent"] for row in rows)
    majority, majority_n = truth_counts.most_common(1)[0]
    per_intent = {}
    for intent in INTENTS:
        tp = confusion[(intent, intent)]
        predicted = sum(confusion[(t, intent)] for t in INTENTS)
        per_intent[intent] = {"precision": _ratio(tp, predicted), "recall": _ratio(tp, truth_counts[intent]),
                              "support": truth_counts[intent], "predicted": predicted}

    pairs = list(zip(rows, results, strict=True))

    def acked(labels: set[str], kind: str | None = None) -> dict[str, Any]:
        group = [r for row, r in pairs if row["intent"] in labels and kind in (None, row.get("reply"))]
        return {"n": len(group), "acked": sum(r.acknowledge for r in group),
                "rate": _ratio(sum(r.acknowledge for r in group), len(group))}

    def tones(labels: set[str]) -> dict[str, Any]:
        group = [r for row, r in pairs if row["intent"] in labels]
        counts = Counter((r.tone or "silent") if r.acknowledge else "silent" for r in group)
        return {"n": len(group), **{tone: counts[tone] for tone in REPLY_COLUMNS}}

    ack_tp = sum(1 for row, r in pairs if row["intent"] in ACK_TRUTH and r.acknowledge)
    ack_fp = sum(1 for row, r in pairs if row["intent"] not in ACK_TRUTH and r.acknowledge)
    ack_fn = sum(1 for row, r in pairs if row["intent"] in ACK_TRUTH and not r.acknowledge)
    urgent_tp = sum(1 for row, r in pairs if row["urgent"] == "yes" and r.urgent)
    urgent_fp = sum(1 for row, r in pairs if row["urgent"] != "yes" and r.urgent)
    urgent_fn = sum(1 for row, r in pairs if row["urgent"] == "yes" and not r.urgent)
    return {
        "part": part or "all",
        "n": len(rows),
        "accuracy": correct / len(rows),
        "baseline": majority_n / len(rows),
        "baseline_intent": majority,
        "per_intent": per_intent,
        "confusion": confusion,
        "ack": {"precision": _ratio(ack_tp, ack_tp + ack_fp), "recall": _ratio(ack_tp, ack_tp + ack_fn),
                "tp": ack_tp, "fp": ack_fp, "fn": ack_fn,
                "complaint": acked({"complaint"}), "question": acked({"question"}),
                "praise_other": acked({"praise", "other"}), "praise": acked({"praise"}), "other": acked({"other"}),
                "spam_abuse": acked({"spam", "abuse"})},
        "by_kind": {kind: {"complaint": acked({"complaint"}, kind), "question": acked({"question"}, kind),
                           "praise_other": acked({"praise", "other"}, kind)} for kind, _ in KINDS},
        "replies": {name: tones(labels) for name, labels in REPLY_ROWS},
        "urgent_precision": _ratio(urgent_tp, urgent_tp + urgent_fp),
        "urgent_recall": _ratio(urgent_tp, urgent_tp + urgent_fn),
        "urgent_counts": {"tp": urgent_tp, "fp": urgent_fp, "fn": urgent_fn},
        "ms_per_message": 1000 * statistics.median(passes) / len(rows),
        "ms_per_message_worst": 1000 * max(passes) / len(rows),
        "ms_per_message_best": 1000 * min(passes) / len(rows),
        "rows": rows,
        "results": results,
    }


#: The reply each labelled group got: its rows, and the columns (tones, or no reply at all).
REPLY_ROWS = (("complaint", {"complaint"}), ("question", {"question"}), ("praise", {"praise"}),
              ("other", {"other"}), ("spam_abuse", {"spam", "abuse"}))
REPLY_COLUMNS = ("silent", "neutral", "apology", "question", "thanks")


def tone_figures(replies: dict[str, dict[str, int]]) -> dict[str, float | None]:
    """The tone errors that hurt: a complaint thanked, praise or chit-chat apologised to; and how much praise and
    chit-chat is answered at all."""
    praise_other = [replies["praise"], replies["other"]]
    n_po = sum(r["n"] for r in praise_other)
    return {"complaints_thanked": _ratio(replies["complaint"]["thanks"], replies["complaint"]["n"]),
            "praise_other_apologised": _ratio(sum(r["apology"] for r in praise_other), n_po),
            "praise_other_answered": _ratio(sum(r["n"] - r["silent"] for r in praise_other), n_po)}


def _pct(value: float | None) -> str:
    return "  n/a" if value is None else f"{100 * value:5.1f}%"


def report(figures: dict[str, Any]) -> None:
    ack = figures["ack"]
    title = {"heldout": "HELD-OUT part", "tuning": "tuning part", "all": "whole set"}[figures["part"]]
    print(f"== {title}: {figures['n']} labelled inbound tweets ==")
    print(f"intent accuracy          {_pct(figures['accuracy'])}   "
          f"(always '{figures['baseline_intent']}': {_pct(figures['baseline'])})")
    print(f"acknowledgement          precision {_pct(ack['precision'])}   recall {_pct(ack['recall'])}   "
          f"(tp {ack['tp']}, fp {ack['fp']}, fn {ack['fn']})")
    for key, label in (("complaint", "complaints acknowledged"), ("question", "questions acknowledged"),
                       ("praise_other", "praise + other acked"), ("praise", "  praise acked"),
                       ("other", "  other acked"), ("spam_abuse", "spam + abuse acked")):
        group = ack[key]
        print(f"{label:<24} {_pct(group['rate'])}   ({group['acked']} of {group['n']})")
    for kind, name in KINDS:
        group = figures["by_kind"][kind]
        print(f"  {name + ':':<22} complaints {_pct(group['complaint']['rate'])} ({group['complaint']['n']}), "
              f"questions {_pct(group['question']['rate'])} ({group['question']['n']}), "
              f"praise + other {_pct(group['praise_other']['rate'])} ({group['praise_other']['n']})")
    counts = figures["urgent_counts"]
    replies = figures["replies"]
    print(f"reply (share of the label) {''.join(f'{c:>10}' for c in REPLY_COLUMNS)}")
    for name, _labels in REPLY_ROWS:
        row = replies[name]
        print(f"  {name.replace('_', ' + '):<24}" + "".join(f"{_pct(_ratio(row[c], row['n'])):>10}"
                                                       for c in REPLY_COLUMNS) + f"   ({row['n']})")
    harm = tone_figures(replies)
    print(f"complaints given the thank-you   {_pct(harm['complaints_thanked'])}   "
          f"praise + other given an apology {_pct(harm['praise_other_apologised'])}   "
          f"praise + other answered {_pct(harm['praise_other_answered'])}")
    print(f"urgent                   precision {_pct(figures['urgent_precision'])}   "
          f"recall {_pct(figures['urgent_recall'])}   (tp {counts['tp']}, fp {counts['fp']}, fn {counts['fn']})")
    print(f"triage per message       {figures['ms_per_message']:.3f} ms (median of {TIMING_ROUNDS} passes; "
          f"fastest {figures['ms_per_message_best']:.3f} ms, slowest {figures['ms_per_message_worst']:.3f} ms)")
    print()
    print(f"{'intent':<10} {'precision':>9} {'recall':>7} {'support':>7}")
    for intent, stats in figures["per_intent"].items():
        print(f"{intent:<10} {_pct(stats['precision']):>9} {_pct(stats['recall']):>7} {stats['support']:>7}")
    print()
    print("confusion (rows: label, columns: triage)")
    print(f"{'':<10}" + "".join(f"{i[:9]:>10}" for i in INTENTS))
    for truth in INTENTS:
        print(f"{truth:<10}" + "".join(f"{figures['confusion'][(truth, guess)]:>10}" for guess in INTENTS))
    print()


def agreement(figures: dict[str, Any], path: Path = SECOND_LABELS) -> dict[str, Any]:
    """The two labellings of the held-out part compared: intent agreement and Cohen's kappa, agreement on the
    acknowledgement's truth, and the acknowledgement figures on the rows both labellings agree on."""
    with open(path, newline="", encoding="utf-8") as handle:
        second = {row["tweet_id"]: row for row in csv.DictReader(handle)}
    pairs = [(row, result, second[row["tweet_id"]]) for row, result in zip(figures["rows"], figures["results"],
                                                                          strict=True) if row["tweet_id"] in second]
    n = len(pairs)
    same = sum(row["intent"] == other["intent"] for row, _, other in pairs)
    first_counts = Counter(row["intent"] for row, _, _ in pairs)
    second_counts = Counter(other["intent"] for _, _, other in pairs)
    chance = sum(first_counts[i] * second_counts[i] for i in first_counts) / (n * n) if n else 0.0
    observed = same / n if n else 0.0
    agreed = [(row, result) for row, result, other in pairs if row["intent"] == other["intent"]]

    def acked(labels: set[str]) -> dict[str, Any]:
        group = [r for row, r in agreed if row["intent"] in labels]
        return {"n": len(group), "acked": sum(r.acknowledge for r in group),
                "rate": _ratio(sum(r.acknowledge for r in group), len(group))}

    return {"n": n, "intent_agreement": observed,
            "kappa": (observed - chance) / (1 - chance) if chance < 1 else None,
            "ack_truth_agreement": _ratio(sum((row["intent"] in ACK_TRUTH) == (other["intent"] in ACK_TRUTH)
                                              for row, _, other in pairs), n),
            "agreed": len(agreed), "complaint": acked({"complaint"}), "question": acked({"question"}),
            "praise_other": acked({"praise", "other"})}


def report_agreement(found: dict[str, Any]) -> None:
    print(f"== HELD-OUT part labelled twice, independently: {found['n']} tweets ==")
    print(f"intent agreement         {_pct(found['intent_agreement'])}   (Cohen's kappa {found['kappa']:.2f})")
    print(f"ack truth agreement      {_pct(found['ack_truth_agreement'])}   (complaint or question, or not)")
    print(f"on the {found['agreed']} rows both labellings agree on:")
    for key, label in (("complaint", "complaints acknowledged"), ("question", "questions acknowledged"),
                       ("praise_other", "praise + other acked")):
        group = found[key]
        print(f"  {label:<22} {_pct(group['rate'])}   ({group['acked']} of {group['n']})")
    print()


def show_errors(figures: dict[str, Any]) -> None:
    for row, result in zip(figures["rows"], figures["results"], strict=True):
        should = row["intent"] in ACK_TRUTH
        if row["intent"] != result.intent or should != result.acknowledge or (row["urgent"] == "yes") != result.urgent:
            text = row["text"].replace("\n", " ")[:120]
            reply = " (reply)" if row.get("reply") == "yes" else ""
            label = f"{row['intent']}{'/urgent' if row['urgent'] == 'yes' else ''}{reply}"
            guess = f"{result.intent}{'/urgent' if result.urgent else ''}{' ACK' if result.acknowledge else ''}"
            flag = "!!" if should != result.acknowledge else "  "
            print(f"{flag}{row['tweet_id']:>6} {label} -> {guess}: {text}")
            print(f"{'':>8} {' | '.join(result.reasons[:3])}")


def cold_start() -> dict[str, float]:
    """What the sentiment analyser adds to a cold start, measured in fresh interpreters: ``python -X importtime``'s
    cumulative import of ``vaderSentiment`` (the package's own modules and what they pull in), the analyser's
    lexicon load, and the first and second triage of one message (rules compiled and analyser built, then warm)."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import vaderSentiment.vaderSentiment"],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    cumulative = 0
    for line in out.stderr.splitlines():
        fields = [f.strip() for f in line.split("|")]
        if len(fields) == 3 and fields[2].strip() == "vaderSentiment.vaderSentiment":
            cumulative = int(fields[1])
    code = (
        "import time, importlib, sys\n"
        "from chalicelib.configfile import load_config\n"
        "from chalicelib.domain.triage import triage\n"
        "config = load_config(sys.argv[1])\n"
        "t0 = time.perf_counter(); module = importlib.import_module('vaderSentiment.vaderSentiment')\n"
        "t1 = time.perf_counter(); module.SentimentIntensityAnalyzer()\n"
        "t2 = time.perf_counter(); triage('@MeridianRail my train is late again', channel='x', config=config)\n"
        "t3 = time.perf_counter(); triage('@MeridianRail thanks, lovely staff', channel='x', config=config)\n"
        "t4 = time.perf_counter(); print(t1 - t0, t2 - t1, t3 - t2, t4 - t3)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(DEFAULT_CONFIG)], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    import_s, lexicon_s, first_s, second_s = (float(v) for v in out.stdout.split())
    return {"importtime_ms": cumulative / 1000, "import_ms": 1000 * import_s, "lexicon_ms": 1000 * lexicon_s,
            "first_triage_ms": 1000 * first_s, "second_triage_ms": 1000 * second_s}


def scorer_figures(figures: dict[str, Any], model_path: Path | None = None) -> dict[str, Any] | None:
    """The learned scorer (``chalicelib/triage_model.json``) on the part ``evaluate`` scored, once: what its stored
    thresholds give, its operating curve, and its time per message (with the rules, and alone). None when the
    package holds no model file."""
    from chalicelib.domain import scorer as scoring
    from tools import triage_train

    path = model_path or scoring.MODEL_PATH
    if not path.is_file():
        return None
    model = scoring.Scorer.load(path)
    rows, results = figures["rows"], figures["results"]
    intents = [row["intent"] for row in rows]
    probabilities = [model.probabilities(row["text"], result.signals) for row, result in zip(rows, results,
                                                                                              strict=True)]
    config = load_config(DEFAULT_CONFIG)
    with_rules, alone = [], []
    for row in rows:
        channel = row.get("channel") or "x"
        started = time.perf_counter()
        result = triage(row["text"], channel=channel, config=config)
        middle = time.perf_counter()
        model.probabilities(row["text"], result.signals)
        ended = time.perf_counter()
        with_rules.append(ended - started)
        alone.append(ended - middle)
    started = time.perf_counter()
    scoring.Scorer.load(path)
    load_ms = 1000 * (time.perf_counter() - started)
    sources = model.meta.get("trained_on", [])
    return {
        "part": figures["part"], "n": len(rows), "meta": model.meta, "bytes": path.stat().st_size,
        "heldout_clean": all(s.get("part", "").startswith("tuning") or s.get("file") != "tests/fixtures/triage_eval.csv"
                             for s in sources),
        "at_thresholds": triage_train.evaluate(probabilities, intents, model.meta["thresholds"]),
        "curve": triage_train.curve(probabilities, intents),
        "curve_no_thanks": triage_train.curve(probabilities, intents, thanks=False),
        "ms_with_rules": 1000 * statistics.median(with_rules), "ms_alone": 1000 * statistics.median(alone),
        "load_ms": load_ms,
    }


def report_scorer(found: dict[str, Any]) -> None:
    meta, got = found["meta"], found["at_thresholds"]
    thresholds = meta["thresholds"]
    title = {"heldout": "HELD-OUT part", "tuning": "tuning part", "all": "whole set"}[found["part"]]
    print(f"== learned scorer on the {title}: {found['n']} tweets, scored once ==")
    trained = "; ".join(f"{s['file']} ({s['part']}, {s['rows']} rows, {s['licence']})" for s in meta["trained_on"])
    print(f"model                    {meta['date']}, {meta['rows']} rows: {trained}")
    if not found["heldout_clean"]:
        print("                         (the model file was trained on rows of this part: figures not held out)")
    silence, no_thanks = got["silence"], got["silence_no_thanks"]
    print(f"silence >= {thresholds['silence']['threshold']:<6}         complaints answered {_pct(silence['complaint'])}"
          f", questions {_pct(silence['question'])}, praise + other {_pct(silence['praise_other'])}, "
          f"spam + abuse {_pct(silence['spam_abuse'])}   (out of fold: "
          f"{_pct(thresholds['silence']['complaint_answered'])}, {_pct(thresholds['silence']['question_answered'])},"
          f" {_pct(thresholds['silence']['praise_other_answered'])})")
    print(f"  no thank-you >= {thresholds['silence_no_thanks']['threshold']:<6}  complaints answered "
          f"{_pct(no_thanks['complaint'])}, questions {_pct(no_thanks['question'])}, praise + other "
          f"{_pct(no_thanks['praise_other'])}, spam + abuse {_pct(no_thanks['spam_abuse'])}")
    print(f"apology P(complaint) >= {thresholds['apology']['threshold']:<6} complaints "
          f"{_pct(got['apology']['complaint'])}"
          f", praise + other {_pct(got['apology']['praise_other'])} (with spam + abuse "
          f"{_pct(got['apology']['praise_other_spam_abuse'])})")
    print(f"thanks P(praise) >= {thresholds['thanks']['threshold']:<6}    praise {_pct(got['thanks']['praise'])}, "
          f"complaints {_pct(got['thanks']['complaint'])}")
    print(f"question P(question) >= {thresholds['question']['threshold']:<6} precision "
          f"{_pct(got['question']['precision'])}, questions reached {_pct(got['question']['question'])}")
    print(f"intent accuracy (argmax) {_pct(got['accuracy'])}")
    print(f"scorer per message       {found['ms_alone']:.3f} ms alone, {found['ms_with_rules']:.3f} ms with the rules "
          f"(median); model file {found['bytes']:,} bytes, loaded in {found['load_ms']:.1f} ms")
    print()
    print("operating curve: leave unanswered when P(spam) + P(abuse) + P(other) >= threshold (share answered)")
    print(f"{'threshold':>9} {'complaints':>11} {'questions':>10} {'praise+other':>13} {'spam+abuse':>11}")
    for point in found["curve"]:
        print(f"{point['threshold']:>9} {_pct(point['complaint']):>11} {_pct(point['question']):>10} "
              f"{_pct(point['praise_other']):>13} {_pct(point['spam_abuse']):>11}")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--labelled", type=Path, default=DEFAULT_LABELLED)
    parser.add_argument("--part", choices=(*PARTS, "both", "all"), default="both",
                        help="both: each part apart; all: every row at once (for a file of the inbox's labels)")
    parser.add_argument("--show-errors", action="store_true", help="list the mistakes (never the held-out part's)")
    args = parser.parse_args(argv)
    parts: tuple[str | None, ...] = PARTS if args.part == "both" else (None,) if args.part == "all" else (args.part,)
    for part in parts:
        try:
            figures = evaluate(args.config, args.labelled, part)
        except LabelledFileError as exc:
            print(f"triage report: {exc}", file=sys.stderr)
            return 1
        report(figures)
        if part == "heldout" and args.labelled == DEFAULT_LABELLED:
            report_agreement(agreement(figures))
        if part == "heldout" and args.labelled == DEFAULT_LABELLED:
            scored = scorer_figures(figures)
            if scored is not None:
                report_scorer(scored)
        if args.show_errors and part != "heldout":  # never the held-out part's messages
            show_errors(figures)
    cold = cold_start()
    print("== once per cold start (fresh interpreter) ==")
    print(f"vaderSentiment import    {cold['importtime_ms']:.1f} ms (python -X importtime, cumulative); "
          f"{cold['import_ms']:.1f} ms timed here")
    print(f"analyser lexicons        {cold['lexicon_ms']:.1f} ms")
    print(f"first triage             {cold['first_triage_ms']:.1f} ms (rules compiled; the analyser was built "
          f"above), then {cold['second_triage_ms']:.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
