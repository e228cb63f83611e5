"""Sentiment of a message: VADER's compound score, from -1 (most negative) to +1 (most positive).

VADER (the ``vaderSentiment`` package: pure Python, its lexicons shipped inside the package, MIT) reads social
media text as people write it: capitals, "!!!", "but", negations, degree words, emoticons and emoji. It is
imported and its lexicons are read the first time a score is asked for, once per process (a Lambda cold start
that never triages pays nothing; one that does pays the import and lexicon load once, measured in README.md),
then each score takes tens of microseconds.
"""
from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["compound", "loaded"]

_lock = threading.Lock()
_score: Callable[[str], dict[str, float]] | None = None


def _scorer() -> Callable[[str], dict[str, float]]:
    global _score
    if _score is None:
        with _lock:
            if _score is None:
                module: Any = importlib.import_module("vaderSentiment.vaderSentiment")
                _score = module.SentimentIntensityAnalyzer().polarity_scores
    assert _score is not None
    return _score


def loaded() -> bool:
    """Whether the analyser has been built in this process."""
    return _score is not None


def compound(text: str) -> float:
    """VADER's compound score of ``text``: -1 (most negative) to +1 (most positive); 0 for nothing to go on."""
    if not text.strip():
        return 0.0
    return float(_scorer()(text)["compound"])
