"""Train the learned triage scorer (``chalicelib/domain/scorer.py``) and write its model file.

    python -m tools.triage_train [--labelled brand-labels.csv ...] [--only] [--licence TEXT] [--out PATH]
    make triage-train [LABELLED=brand-labels.csv]

Data: the tuning part of the shipped labelled set (``tests/fixtures/triage_eval.csv``; never its held-out part,
which ``make triage-report`` scores), plus every row of each ``--labelled`` file (the inbox's label download, or
any file in the same format). ``--only`` leaves the shipped set out: a brand that needs other terms than the shipped
set's licence (CC BY-NC-SA 4.0: weights derived from it are shared under the same licence) trains on its own labels
alone.

Each message is triaged by the brand's rules (``--config``) for its signals, then a multinomial logistic regression
over hashed n-grams and those signals is fitted by plain SGD with an L2 penalty and class weights (fixed seed: the
same data give the same file, byte for byte). Thresholds are chosen on out-of-fold predictions of the training rows
(k-fold; the held-out part is never read):

- ``apology``: on P(complaint), the lowest at which at most 3 % of praise, other, spam and abuse rows get it;
- ``thanks``: on P(praise), the lowest at which at most 0.2 % of complaints get it (a margin under the 0.5 %
  promised on unseen messages);
- ``question``: on P(question), the lowest with a precision of at least 70 % (most of the rest are complaints
  asked as questions);
- ``silence`` (the brand file's sensitivity): the "needs no answer" score P(spam) + P(abuse) + P(other) at or
  above which a message is left unanswered — the lowest (answering as little praise and chit-chat as possible)
  that still answers at least 99 % of complaints and of questions (a margin over the 97 % promised on unseen
  messages: out-of-fold figures flatter them by a point or two); ``silence_no_thanks`` the same with P(praise)
  added, for a brand that sends no thank-you. The operating curves of both are stored for the report and the
  brand file.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.triage_accuracy import DEFAULT_CONFIG, DEFAULT_LABELLED, LabelledFileError, load_labelled  # noqa: E402
from chalicelib.configfile import load_config  # noqa: E402
from chalicelib.domain import scorer as scoring  # noqa: E402
from chalicelib.domain.config import INTENTS  # noqa: E402
from chalicelib.domain.triage import triage  # noqa: E402

#: The shipped labelled set's licence (tests/fixtures/README.md).
SHIPPED_LICENCE = "CC BY-NC-SA 4.0"
#: What an extra labelled file is recorded as, unless ``--licence`` says otherwise.
BRAND_LICENCE = "the brand's own labels of its own traffic (terms set by the brand)"

SEED = 0
FOLDS = 5
EPOCHS = 15
L2 = 1e-3
ETA0 = 0.05
#: A gram must occur in this many training messages to get a weight (rarer ones are left out of the table).
MIN_DF = 6
#: Class weight = (rows / (intents * rows of the class)) ** CLASS_WEIGHT_POWER, capped at CLASS_WEIGHT_CAP.
CLASS_WEIGHT_POWER = 0.25
CLASS_WEIGHT_CAP = 4.0

#: Targets the thresholds are chosen for (out of fold).
APOLOGY_MAX_NOT_COMPLAINT = 0.03
THANKS_MAX_COMPLAINT = 0.002
QUESTION_MIN_PRECISION = 0.70
SILENCE_MIN_ANSWERED = 0.99
#: The thresholds the operating curve lists.
CURVE = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9,
         0.95, 0.98, 0.99, 1.0)
#: The report's groups: who should be answered (complaints, questions), who need not (praise + other), who must not.
GROUPS = (("complaint", ("complaint",)), ("question", ("question",)), ("praise_other", ("praise", "other")),
          ("spam_abuse", ("spam", "abuse")))
NO_ANSWER = ("spam", "abuse", "other")

Example = tuple[list[tuple[int, float]], int, float]  # features, intent index, sample weight


# --------------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return path.name


def training_rows(shipped: Path | None, extra: Sequence[Path], licence: str) -> tuple[list[dict[str, str]],
                                                                                    list[dict[str, Any]]]:
    """The rows to train on and what they came from: the shipped set's tuning part, every row of each extra file."""
    rows: list[dict[str, str]] = []
    sources: list[dict[str, Any]] = []
    if shipped is not None:
        picked = load_labelled(shipped, "tuning")
        rows += picked
        sources.append({"file": _display(shipped), "sha256": sha256(shipped), "part": "tuning (held-out part left out)",
                        "rows": len(picked), "licence": SHIPPED_LICENCE})
    for path in extra:
        picked = load_labelled(path)
        rows += picked
        sources.append({"file": _display(path), "sha256": sha256(path), "part": "all", "rows": len(picked),
                        "licence": licence})
    if not rows:
        raise LabelledFileError("no labelled row to train on")
    return rows, sources


def row_signals(rows: Sequence[Mapping[str, str]], config_path: Path) -> list[dict[str, float]]:
    """The rules' signals for each row (``Triage.signals``), each triaged on its own channel."""
    config = load_config(config_path)
    return [dict(triage(row["text"], channel=row.get("channel") or "x", config=config).signals) for row in rows]


# --------------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------------


def class_weights(labels: Sequence[int], classes: int) -> list[float]:
    counts = Counter(labels)
    n = len(labels)
    return [min(CLASS_WEIGHT_CAP, (n / (classes * counts[k])) ** CLASS_WEIGHT_POWER) if counts[k] else 1.0
            for k in range(classes)]


def kept_buckets(examples: Sequence[Sequence[tuple[int, float]]], min_df: int) -> set[int]:
    df: Counter[int] = Counter()
    for feats in examples:
        df.update(index for index, _ in feats)
    return {index for index, count in df.items() if count >= min_df}


def fit(examples: Sequence[Example], classes: int, *, epochs: int = EPOCHS, l2: float = L2, eta0: float = ETA0,
        seed: int = SEED) -> dict[int, list[float]]:
    """Multinomial logistic regression by SGD with an L2 penalty (the weights kept as a scale times a table, so the
    penalty costs nothing per step), a decreasing step and a fixed shuffle."""
    table: dict[int, list[float]] = {}
    scale = 1.0
    rng = random.Random(seed)
    order = list(range(len(examples)))
    step = 0
    for _ in range(epochs):
        rng.shuffle(order)
        for i in order:
            feats, label, weight = examples[i]
            eta = eta0 / (1 + eta0 * l2 * step)
            step += 1
            sums = [0.0] * classes
            rows = []
            for index, value in feats:
                row = table.get(index)
                if row is None:
                    row = table[index] = [0.0] * classes
                rows.append((row, value))
                for k in range(classes):
                    sums[k] += row[k] * value
            probabilities = scoring.softmax([s * scale for s in sums])
            gradient = [weight * (p - (1.0 if k == label else 0.0)) for k, p in enumerate(probabilities)]
            scale *= 1 - eta * l2
            factor = eta / scale
            for row, value in rows:
                for k in range(classes):
                    row[k] -= factor * gradient[k] * value
            if scale < 1e-6:
                for row in table.values():
                    for k in range(classes):
                        row[k] *= scale
                scale = 1.0
    return {index: [w * scale for w in row] for index, row in table.items()}


def centred(weights: Mapping[int, Sequence[float]]) -> dict[int, list[float]]:
    """Each bucket's weights less their mean: the same probabilities (softmax ignores a shift shared by every
    intent), smaller numbers to store."""
    out = {}
    for index, row in weights.items():
        mean = sum(row) / len(row)
        out[index] = [w - mean for w in row]
    return out


def build(rows: Sequence[Mapping[str, str]], signals: Sequence[Mapping[str, float]], *, min_df: int = MIN_DF,
          epochs: int = EPOCHS, l2: float = L2, eta0: float = ETA0, seed: int = SEED) -> scoring.Scorer:
    """A scorer trained on ``rows``, with the weights as the file stores them (pruned to grams seen ``min_df``
    times, quantised): what it predicts is what the shipped file predicts."""
    labels = [INTENTS.index(row["intent"]) for row in rows]
    feats = [scoring.features(row["text"], s) for row, s in zip(rows, signals, strict=True)]
    keep = kept_buckets(feats, min_df)
    keep |= {index for s in signals for index, _ in scoring.features("", s)}  # every signal keeps its weight
    weights = class_weights(labels, len(INTENTS))
    examples = [([(i, v) for i, v in f if i in keep], label, weights[label]) for f, label in
                zip(feats, labels, strict=True)]
    table = centred(fit(examples, len(INTENTS), epochs=epochs, l2=l2, eta0=eta0, seed=seed))
    stored = scoring.decode_weights(scoring.encode_weights(table, len(INTENTS)), len(INTENTS))
    return scoring.Scorer(INTENTS, stored)


def out_of_fold(rows: Sequence[Mapping[str, str]], signals: Sequence[Mapping[str, float]], *, folds: int = FOLDS,
                seed: int = SEED, progress: Callable[[str], None] = lambda _: None, **options: Any
                ) -> list[dict[str, float]]:
    """Each row's probabilities from a model trained on the other folds."""
    assignment = [i % folds for i in range(len(rows))]
    random.Random(seed).shuffle(assignment)
    out: list[dict[str, float]] = [{} for _ in rows]
    for fold in range(folds):
        inside = [i for i, f in enumerate(assignment) if f == fold]
        outside = [i for i, f in enumerate(assignment) if f != fold]
        model = build([rows[i] for i in outside], [signals[i] for i in outside], seed=seed, **options)
        for i in inside:
            out[i] = model.probabilities(rows[i]["text"], signals[i])
        progress(f"fold {fold + 1} of {folds}")
    return out


# --------------------------------------------------------------------------------------------------
# thresholds and the operating curve
# --------------------------------------------------------------------------------------------------


def _share(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def lowest_threshold(scores: Sequence[float], allowed: Callable[[float], bool]) -> float:
    """The lowest candidate (a score that occurs, rounded to 4 decimals, or 1.0) that ``allowed`` accepts, scanning
    up from the lowest; 1.0 if none."""
    candidates = sorted({round(s, 4) for s in scores} | {1.0})
    for candidate in candidates:
        if allowed(candidate):
            return candidate
    return 1.0


def silence_score(probabilities: Mapping[str, float], *, thanks: bool = True) -> float:
    """How surely a message needs no answer: P(spam) + P(abuse) + P(other), with P(praise) when the brand sends no
    thank-you."""
    score = sum(probabilities.get(i, 0.0) for i in NO_ANSWER)
    return score if thanks else score + probabilities.get("praise", 0.0)


def answered(probabilities: Sequence[Mapping[str, float]], intents: Sequence[str], threshold: float, *,
             thanks: bool = True) -> dict[str, float | None]:
    """The share of each group answered (silence score below ``threshold``)."""
    out: dict[str, float | None] = {}
    for name, members in GROUPS:
        out[name] = _share([silence_score(p, thanks=thanks) < threshold
                            for p, intent in zip(probabilities, intents, strict=True) if intent in members])
    return out


def curve(probabilities: Sequence[Mapping[str, float]], intents: Sequence[str], *, thanks: bool = True
          ) -> list[dict[str, float | None]]:
    return [{"threshold": t, **{k: _round(v) for k, v in answered(probabilities, intents, t, thanks=thanks).items()}}
            for t in CURVE]


def choose_thresholds(probabilities: Sequence[Mapping[str, float]], intents: Sequence[str]) -> dict[str, Any]:
    """The tone and silence thresholds (see the module's docstring), each with what it gives on these rows."""
    def column(name: str, members: Sequence[str] | None = None) -> list[float]:
        return [p[name] for p, i in zip(probabilities, intents, strict=True) if members is None or i in members]

    not_complaint = ("praise", "other", "spam", "abuse")
    p_complaint_others = column("complaint", not_complaint)
    apology = lowest_threshold(column("complaint"), lambda t: (_share([p >= t for p in p_complaint_others]) or 0.0)
                               <= APOLOGY_MAX_NOT_COMPLAINT)
    p_praise_complaints = column("praise", ("complaint",))
    thanks = lowest_threshold(column("praise"), lambda t: (_share([p >= t for p in p_praise_complaints]) or 0.0)
                              <= THANKS_MAX_COMPLAINT)

    def question_precision(t: float) -> float | None:
        picked = [i for p, i in zip(probabilities, intents, strict=True) if p["question"] >= t]
        return _share([i == "question" for i in picked])

    question = lowest_threshold(column("question"), lambda t: (question_precision(t) or 0.0)
                                >= QUESTION_MIN_PRECISION)

    def silence(thanks_sent: bool) -> dict[str, Any]:
        scores = [silence_score(p, thanks=thanks_sent) for p in probabilities]

        def enough(t: float) -> bool:
            got = answered(probabilities, intents, t, thanks=thanks_sent)
            return all((got[g] if got[g] is not None else 1.0) >= SILENCE_MIN_ANSWERED
                       for g in ("complaint", "question"))

        candidates = sorted({round(s, 4) for s in scores} | {1.0, 1.0001})
        chosen = next((t for t in candidates if enough(t)), 1.0001)
        got = answered(probabilities, intents, chosen, thanks=thanks_sent)
        return {"threshold": chosen, "rule": "leave unanswered when the score is at or above it",
                "target": f"complaints and questions answered >= {SILENCE_MIN_ANSWERED:.0%}",
                **{f"{k}_answered": _round(v) for k, v in got.items()}}

    def reaching(name: str, t: float, members: Sequence[str]) -> float | None:
        return _round(_share([p >= t for p in column(name, members)]))

    return {
        "apology": {"threshold": apology, "on": "P(complaint)",
                    "target": f"praise + other + spam + abuse reaching it <= {APOLOGY_MAX_NOT_COMPLAINT:.0%}",
                    "complaints_reaching": reaching("complaint", apology, ("complaint",)),
                    "praise_other_spam_abuse_reaching": reaching("complaint", apology, not_complaint),
                    "praise_other_reaching": reaching("complaint", apology, ("praise", "other")),
                    "questions_reaching": reaching("complaint", apology, ("question",))},
        "thanks": {"threshold": thanks, "on": "P(praise)",
                   "target": f"complaints reaching it <= {THANKS_MAX_COMPLAINT:.1%}",
                   "praise_reaching": reaching("praise", thanks, ("praise",)),
                   "complaints_reaching": reaching("praise", thanks, ("complaint",)),
                   "other_reaching": reaching("praise", thanks, ("other",))},
        "question": {"threshold": question, "on": "P(question)",
                     "target": f"precision >= {QUESTION_MIN_PRECISION:.0%}",
                     "precision": _round(question_precision(question)),
                     "questions_reaching": reaching("question", question, ("question",)),
                     "complaints_reaching": reaching("question", question, ("complaint",))},
        "silence": {"on": "P(spam) + P(abuse) + P(other)", **silence(True)},
        "silence_no_thanks": {"on": "P(spam) + P(abuse) + P(other) + P(praise)", **silence(False)},
    }


def evaluate(probabilities: Sequence[Mapping[str, float]], intents: Sequence[str],
             thresholds: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """What stored thresholds give on labelled rows (probabilities scored elsewhere): the silence decision per
    group, and each tone's reach (for the report's held-out part)."""
    def reach(name: str, t: float, members: Sequence[str]) -> float | None:
        return _share([p[name] >= t for p, i in zip(probabilities, intents, strict=True) if i in members])

    apology = float(thresholds["apology"]["threshold"])
    thanks = float(thresholds["thanks"]["threshold"])
    question = float(thresholds["question"]["threshold"])
    picked = [i for p, i in zip(probabilities, intents, strict=True) if p["question"] >= question]
    return {
        "silence": answered(probabilities, intents, float(thresholds["silence"]["threshold"])),
        "silence_no_thanks": answered(probabilities, intents, float(thresholds["silence_no_thanks"]["threshold"]),
                                      thanks=False),
        "apology": {"complaint": reach("complaint", apology, ("complaint",)),
                    "praise_other": reach("complaint", apology, ("praise", "other")),
                    "praise_other_spam_abuse": reach("complaint", apology, ("praise", "other", "spam", "abuse"))},
        "thanks": {"praise": reach("praise", thanks, ("praise",)),
                   "complaint": reach("praise", thanks, ("complaint",))},
        "question": {"precision": _share([i == "question" for i in picked]),
                     "question": reach("question", question, ("question",))},
        "accuracy": _share([max(p, key=lambda k: p[k]) == i for p, i in zip(probabilities, intents, strict=True)]),
    }


def log_loss(probabilities: Sequence[Mapping[str, float]], intents: Sequence[str]) -> float:
    return -sum(math.log(max(p[i], 1e-12)) for p, i in zip(probabilities, intents, strict=True)) / len(intents)


# --------------------------------------------------------------------------------------------------
# the model file
# --------------------------------------------------------------------------------------------------


def model_document(model: scoring.Scorer, meta: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "format": scoring.FORMAT,
        "intents": list(model.intents),
        "features": {"hash_bits": model.bits, "char_ngrams": list(model.char_ngrams),
                     "word_ngrams": [1, 2], "hash": "CRC-32 of the UTF-8 gram, low bits",
                     "text": "chalicelib.domain.triage.normalise, lower case, digits folded to 0",
                     "signals": "Triage.signals: rule score levels, sentiment buckets, indicators, mark counts"},
        "meta": dict(meta),
        "table": scoring.encode_weights(model.weights, len(model.intents)),
    }


def write_model(document: Mapping[str, Any], path: Path) -> None:
    path.write_text(json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def train(shipped: Path | None, extra: Sequence[Path], *, licence: str = BRAND_LICENCE,
          config_path: Path = DEFAULT_CONFIG, date: str | None = None, folds: int = FOLDS, epochs: int = EPOCHS,
          min_df: int = MIN_DF, seed: int = SEED, progress: Callable[[str], None] = lambda _: None
          ) -> dict[str, Any]:
    """Train on the rows, choose the thresholds out of fold, and return the model file's document."""
    rows, sources = training_rows(shipped, extra, licence)
    progress(f"{len(rows)} labelled rows; reading the rules' signals")
    signals = row_signals(rows, config_path)
    intents = [row["intent"] for row in rows]
    options = {"min_df": min_df, "epochs": epochs}
    oof = out_of_fold(rows, signals, folds=folds, seed=seed, progress=progress, **options)
    thresholds = choose_thresholds(oof, intents)
    model = build(rows, signals, seed=seed, **options)
    progress("the final model trained")
    licences = sorted({source["licence"] for source in sources})
    meta = {
        "trained_on": sources,
        "rows": len(rows),
        "intents": dict(sorted(Counter(intents).items())),
        "licence": " + ".join(licences),
        "licence_note": ("weights derived from CC BY-NC-SA 4.0 data are shared under CC BY-NC-SA 4.0 "
                         "(non-commercial, share alike); retrain with --only on data whose terms suit the use"
                         if SHIPPED_LICENCE in licences else "derived only from the files listed"),
        "date": date or os.environ.get("TRIAGE_MODEL_DATE") or dt.date.today().isoformat(),
        "rules": {"config": _display(config_path), "sha256": sha256(config_path)},
        "training": {"method": "multinomial logistic regression, SGD with L2", "epochs": epochs, "l2": L2,
                     "eta0": ETA0, "seed": seed, "min_df": min_df,
                     "class_weights": dict(zip(INTENTS, (round(w, 4) for w in class_weights(
                         [INTENTS.index(i) for i in intents], len(INTENTS))), strict=True)),
                     "buckets_stored": len(model.weights), "quantisation": "int8, one scale per intent"},
        "out_of_fold": {"folds": folds, "rows": len(rows), "log_loss": round(log_loss(oof, intents), 4),
                        "accuracy": _round(_share([max(p, key=lambda k: p[k]) == i
                                                   for p, i in zip(oof, intents, strict=True)]))},
        "thresholds": thresholds,
        "curve": {"silence": curve(oof, intents), "silence_no_thanks": curve(oof, intents, thanks=False)},
    }
    return model_document(model, meta)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--labelled", type=Path, action="append", default=[],
                        help="a labelled CSV to train on as well, every row (the inbox's label download); repeatable")
    parser.add_argument("--only", action="store_true",
                        help="leave the shipped labelled set out: train on the --labelled files alone")
    parser.add_argument("--licence", default=BRAND_LICENCE, help="the terms of the --labelled files, recorded")
    parser.add_argument("--shipped", type=Path, default=DEFAULT_LABELLED, help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--out", type=Path, default=scoring.MODEL_PATH)
    parser.add_argument("--date", help="the date recorded in the file (default: today; give the shipped file's to "
                                       "reproduce it byte for byte)")
    parser.add_argument("--folds", type=int, default=FOLDS)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args(argv)
    if args.only and not args.labelled:
        parser.error("--only needs at least one --labelled file")
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    try:
        document = train(None if args.only else args.shipped, args.labelled, licence=args.licence,
                         config_path=args.config, date=args.date, folds=args.folds, epochs=args.epochs,
                         progress=progress)
    except LabelledFileError as exc:
        print(f"triage train: {exc}", file=sys.stderr)
        return 1
    write_model(document, args.out)
    meta = document["meta"]
    progress(f"wrote {args.out} ({args.out.stat().st_size:,} bytes; {meta['rows']} rows, {meta['licence']})")
    for name, entry in meta["thresholds"].items():
        details = ", ".join(f"{k} {v}" for k, v in entry.items() if k not in ("on", "target", "rule", "threshold"))
        print(f"{name:<18} {entry['on']:<42} >= {entry['threshold']:<7} {details}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
