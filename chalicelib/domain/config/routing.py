"""The ``routing`` section of the brand file: the default desk, the escalation desk and the on-call desk."""
from __future__ import annotations

from chalicelib.domain.config.base import _Model


class Routing(_Model):
    default_desk: str
    escalation_desk: str
    oncall_desk: str | None = None
