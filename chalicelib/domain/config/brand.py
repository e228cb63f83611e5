"""The ``brand`` section of the brand file: the brand's name, time zone, X handle, language and locale."""
from __future__ import annotations

import re

from pydantic import Field, field_validator

from chalicelib.domain.config.base import _check_timezone, _Model, _problem

#: The automated notice of a brand file that names none.
DEFAULT_AUTOMATED_NOTICE = {"en": "(automated reply)", "fr": "(réponse automatique)", "cy": "(ateb awtomatig)"}


class Brand(_Model):
    name: str = Field(min_length=1)
    timezone: str
    x_handle: str = ""
    language: str = "en"  # the brand's default language for acknowledgements (ISO 639-1)
    locale: str = "en-GB"  # formatting of dates / times shown to customers
    # what every text sent without a person ends with, per language (an agent's reply never carries it)
    automated_notice: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_AUTOMATED_NOTICE))

    def notice(self, language: str = "") -> str:
        """The automated notice in ``language``, else the brand's language, else English ("" when set empty)."""
        for lang in (language, self.language, "en"):
            if lang in self.automated_notice:
                return self.automated_notice[lang].strip()
        return ""

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _check_timezone(value)

    @field_validator("x_handle")
    @classmethod
    def _strip_at(cls, value: str) -> str:
        return value.lstrip("@")

    @field_validator("language")
    @classmethod
    def _lang(cls, value: str) -> str:
        if not re.match(r"^[a-z]{2,3}$", value):
            raise _problem(f"language {value!r} must be an ISO 639 code such as en")
        return value
