"""The brand file's ``listening`` section: what the listening pollers search for beyond the brand's own mentions
(its names, services, keywords and hashtags, and what to leave out), where the posts they find go, which places a
burst of posts is counted by, and how many posts in how many minutes make a suggested incident (ADR 0032)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from chalicelib.domain.config.base import _check_id, _Model, _problem

#: The platforms the listening pollers search: X recent search (paid per post read), Bluesky post search and the
#: hashtag timelines of the brand's Mastodon instance.
ListeningChannel = Literal["x", "bluesky", "mastodon"]
LISTENING_CHANNELS: tuple[ListeningChannel, ...] = ("x", "bluesky", "mastodon")
#: The longest term or place a brand may list (X's whole query is 512 characters).
MAX_TERM = 60


def _terms(value: tuple[str, ...], what: str) -> tuple[str, ...]:
    cleaned: list[str] = []
    for term in value:
        if not isinstance(term, str) or not term.strip():
            raise _problem(f"{what}: every entry must be non-empty text")
        term = " ".join(term.split())
        if len(term) > MAX_TERM:
            raise _problem(f"{what}: {term[:30]!r}… is longer than {MAX_TERM} characters")
        if any(c in term for c in '"()'):
            raise _problem(f"{what}: {term!r} may not hold quotes or brackets (each entry is searched as written)")
        if term.startswith("#") and (len(term) < 2 or not term[1:].replace("_", "").isalnum()):
            raise _problem(f"{what}: {term!r} is not a hashtag (letters, digits and _ after the #)")
        if term.lower() not in {t.lower() for t in cleaned}:
            cleaned.append(term)
    return tuple(cleaned)


class Burst(_Model):
    """How many posts naming one place, within how many minutes, make a suggested incident."""

    posts: int = Field(default=5, ge=2, le=1000)
    minutes: int = Field(default=10, ge=1, le=24 * 60)


class Listening(_Model):
    """Off unless ``terms`` are given. ``desk``: where matching posts go (default: the desk the triage rules pick).
    ``exclude``: a post naming one of these is left alone. ``places``: stations, lines, services — a burst of posts
    naming one of them (``burst``) is shown to leads as a suggested incident (mentions of the brand count too).
    ``channels``: where to search (default: all three, each only once its account is configured)."""

    terms: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    desk: str = ""
    burst: Burst = Field(default_factory=Burst)
    channels: tuple[ListeningChannel, ...] = LISTENING_CHANNELS

    @field_validator("terms")
    @classmethod
    def _terms(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _terms(value, "terms")

    @field_validator("exclude")
    @classmethod
    def _exclude(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _terms(value, "exclude")

    @field_validator("places")
    @classmethod
    def _places(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _terms(value, "places")

    @field_validator("desk")
    @classmethod
    def _desk(cls, value: str) -> str:
        return _check_id(value, "desk") if value else value

    @property
    def enabled(self) -> bool:
        return bool(self.terms)

    def searches(self, channel: str) -> bool:
        return self.enabled and channel in self.channels
