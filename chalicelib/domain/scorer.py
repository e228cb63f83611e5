"""The learned scorer beside the triage rules: a multinomial logistic regression over the six intents, reading hashed
word and character n-grams of the message and the rules' own signals (``Triage.signals``).

Pure Python and small, so that it fits the Lambda package and its time budget: features are hashed with CRC-32 (the
same index on every machine and in every process), the weights are a sparse table of the buckets training kept,
quantised to int8 per intent, zlib-compressed and base64-encoded inside one JSON file
(``chalicelib/triage_model.json``) beside its metadata: which labelled files it was trained on, their rows and
licence, the feature settings, and the thresholds and operating curve chosen out of fold (``tools/triage_train.py``,
``make triage-train``). Nothing is read at import; :func:`default_scorer` loads the shipped file once per process,
on first use.
"""
from __future__ import annotations

import base64
import functools
import json
import math
import re
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from chalicelib.domain.triage import normalise

__all__ = ["FORMAT", "MODEL_PATH", "Scorer", "default_scorer", "features", "signal_features"]

#: The shipped model file (inside the package).
MODEL_PATH = Path(__file__).resolve().parents[1] / "triage_model.json"
#: What the file's ``format`` field must say.
FORMAT = "triage-scorer/1"
#: Hash buckets: 2 ** HASH_BITS (only the buckets training kept are stored).
HASH_BITS = 20
#: Character n-grams taken within each word (padded with ``<`` and ``>``).
CHAR_NGRAMS = (3, 5)
#: Sentiment (VADER compound, -1 to +1) bucket edges.
SENTIMENT_EDGES = (-0.75, -0.5, -0.25, -0.05, 0.05, 0.25, 0.5, 0.75)
#: Rule score levels (a rule score at or above each gets its own indicator).
RULE_LEVELS = (1.0, 2.0, 3.0, 5.0)

_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[^\w\s.,;:'\"()\[\]{}\-_/\\*&%$#@+=<>|~`^]", re.UNICODE)
_DIGITS = re.compile(r"\d+")


def _bucket(name: str, mask: int) -> int:
    return zlib.crc32(name.encode("utf-8")) & mask


def signal_features(signals: Mapping[str, float]) -> list[str]:
    """The rules' signals as named indicator features: each intent's rule score at a few levels, the sentiment's
    bucket, whether the message asks, passes something on, is a bare link or urgent, and its question and
    exclamation marks (0 to 3)."""
    names = ["bias"]
    rules = {key[5:]: value for key, value in signals.items() if key.startswith("rule:") and value > 0}
    top = max(sorted(rules), key=lambda intent: rules[intent]) if rules else "none"
    mood = signals.get("sentiment", 0.0)
    tone = "neg" if mood <= -0.25 else "pos" if mood >= 0.25 else "flat"
    names += [f"top:{top}", f"top:{top}&{tone}", f"top:{top}&asks:{signals.get('asks', 0.0):g}",
              f"top:{top}&passed_on:{signals.get('passed_on', 0.0):g}"]
    for key, value in sorted(signals.items()):
        if key.startswith("rule:"):
            if value > 0:
                names.append(f"{key}>0")
                names.extend(f"{key}>={level:g}" for level in RULE_LEVELS if value >= level)
        elif key == "sentiment":
            names.append(f"sentiment:{sum(1 for edge in SENTIMENT_EDGES if value >= edge)}")
        elif key in ("question_marks", "exclamations"):
            names.append(f"{key}:{min(int(value), 3)}")
        elif value:
            names.append(key)
    return names


def features(text: str, signals: Mapping[str, float], *, bits: int = HASH_BITS,
             char_ngrams: tuple[int, int] = CHAR_NGRAMS) -> list[tuple[int, float]]:
    """A message as hashed features ``(bucket, value)``: word unigrams and bigrams and character n-grams within
    words of the normalised, lower-cased text (digits folded to ``0``), as presence scaled to unit length, and the
    rules' signals (:func:`signal_features`) as indicators. Deterministic: the same text and signals give the same
    list in every process."""
    mask = (1 << bits) - 1
    tokens = _TOKEN.findall(_DIGITS.sub("0", normalise(text).lower()))
    grams: set[str] = set()
    low, high = char_ngrams
    previous = "<s>"
    for token in tokens:
        grams.add("w " + token)
        grams.add("b " + previous + " " + token)
        previous = token
        if token[0].isalpha() and len(token) > 1:
            padded = "<" + token + ">"
            size = len(padded)
            for n in range(low, min(high, size) + 1):
                for start in range(size - n + 1):
                    grams.add("c " + padded[start:start + n])
    if tokens:
        grams.add("b " + previous + " </s>")
    out: dict[int, float] = {}
    if grams:
        value = 1.0 / math.sqrt(len(grams))
        for gram in sorted(grams):  # a set's order changes with each process's string hashing
            index = _bucket(gram, mask)
            out[index] = out.get(index, 0.0) + value
    for name in signal_features(signals):
        index = _bucket("s " + name, mask)
        out[index] = out.get(index, 0.0) + 1.0
    return list(out.items())


def softmax(logits: Sequence[float]) -> list[float]:
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


# --------------------------------------------------------------------------------------------------
# the compact weight table
# --------------------------------------------------------------------------------------------------


def _varints(values: Sequence[int]) -> bytes:
    out = bytearray()
    for value in values:
        while value >= 0x80:
            out.append((value & 0x7F) | 0x80)
            value >>= 7
        out.append(value)
    return bytes(out)


def _read_varints(data: bytes) -> list[int]:
    values: list[int] = []
    value = shift = 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
        else:
            values.append(value)
            value = shift = 0
    return values


def encode_weights(weights: Mapping[int, Sequence[float]], classes: int) -> dict[str, Any]:
    """Weights (bucket -> one weight per intent) as the file stores them: the buckets in order, delta-encoded as
    varints; the weights quantised to int8 with one scale per intent; both zlib-compressed and base64-encoded."""
    buckets = sorted(weights)
    scales = []
    for k in range(classes):
        largest = max((abs(weights[b][k]) for b in buckets), default=0.0)
        scales.append(largest / 127 if largest else 1.0)
    quantised = bytearray()
    for bucket in buckets:
        for k in range(classes):
            quantised.append(max(-127, min(127, round(weights[bucket][k] / scales[k]))) & 0xFF)
    deltas = [b - a for a, b in zip([0, *buckets[:-1]], buckets, strict=True)]
    return {
        "buckets": base64.b64encode(zlib.compress(_varints(deltas), 9)).decode("ascii"),
        "weights": base64.b64encode(zlib.compress(bytes(quantised), 9)).decode("ascii"),
        "scales": [float(f"{s:.9g}") for s in scales],
    }


def decode_weights(table: Mapping[str, Any], classes: int) -> dict[int, tuple[float, ...]]:
    scales = [float(s) for s in table["scales"]]
    deltas = _read_varints(zlib.decompress(base64.b64decode(table["buckets"])))
    raw = zlib.decompress(base64.b64decode(table["weights"]))
    if len(raw) != classes * len(deltas):
        raise ValueError("model file: the weight table does not match its buckets")
    out: dict[int, tuple[float, ...]] = {}
    bucket = 0
    for i, delta in enumerate(deltas):
        bucket += delta
        row = raw[i * classes:(i + 1) * classes]
        out[bucket] = tuple((q - 256 if q > 127 else q) * scales[k] for k, q in enumerate(row))
    return out


# --------------------------------------------------------------------------------------------------
# the scorer
# --------------------------------------------------------------------------------------------------


class Scorer:
    """A trained scorer: ``probabilities(text, signals)`` over the intents it was trained on; ``meta`` says what it
    was trained on, its thresholds and its operating curve."""

    def __init__(self, intents: Sequence[str], weights: Mapping[int, Sequence[float]], *, bits: int = HASH_BITS,
                 char_ngrams: tuple[int, int] = CHAR_NGRAMS, meta: Mapping[str, Any] | None = None) -> None:
        self.intents = tuple(intents)
        self.bits = bits
        self.char_ngrams = char_ngrams
        self.weights: dict[int, tuple[float, ...]] = {b: tuple(w) for b, w in weights.items()}
        self.meta: dict[str, Any] = dict(meta or {})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scorer:
        if data.get("format") != FORMAT:
            raise ValueError(f"model file: format {data.get('format')!r}, expected {FORMAT!r}")
        intents = [str(i) for i in data["intents"]]
        settings = data["features"]
        low, high = settings["char_ngrams"]
        return cls(intents, decode_weights(data["table"], len(intents)), bits=int(settings["hash_bits"]),
                   char_ngrams=(int(low), int(high)), meta=data.get("meta") or {})

    @classmethod
    def load(cls, path: str | Path) -> Scorer:
        """The scorer in a model file written by ``tools/triage_train.py``."""
        with open(path, encoding="utf-8") as handle:
            return cls.from_dict(json.load(handle))

    def logits(self, text: str, signals: Mapping[str, float]) -> list[float]:
        sums = [0.0] * len(self.intents)
        weights = self.weights
        for index, value in features(text, signals, bits=self.bits, char_ngrams=self.char_ngrams):
            row = weights.get(index)
            if row is not None:
                for k, w in enumerate(row):
                    sums[k] += w * value
        return sums

    def probabilities(self, text: str, signals: Mapping[str, float]) -> dict[str, float]:
        """Each intent's probability (they sum to 1)."""
        return dict(zip(self.intents, softmax(self.logits(text, signals)), strict=True))

    @property
    def thresholds(self) -> dict[str, float]:
        """The thresholds chosen out of fold at training (``apology``, ``thanks``, ``question``, ``silence``,
        ``silence_no_thanks``): see ``meta["thresholds"]`` for what each gives."""
        found = self.meta.get("thresholds") or {}
        return {name: float(entry["threshold"]) for name, entry in found.items()}


@functools.cache
def default_scorer() -> Scorer | None:
    """The shipped scorer (``chalicelib/triage_model.json``), loaded once per process on first call; None when the
    package holds no model file."""
    if not MODEL_PATH.is_file():
        return None
    return Scorer.load(MODEL_PATH)
