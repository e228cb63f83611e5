"""The ``brand`` section of the brand file: the brand's name, time zone, X handle, language and locale."""
from __future__ import annotations

import re

from pydantic import Field, field_validator

from chalicelib.domain.config.base import _check_timezone, _Model, _problem


class Brand(_Model):
    name: str = Field(min_length=1)
    timezone: str
    x_handle: str = ""
    language: str = "en"  # the brand's default language for acknowledgements (ISO 639-1)
    locale: str = "en-GB"  # formatting of dates / times shown to customers

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
