"""Deployed stages: each desk queue's consumer is a Lambda event source mapping, enabled while a team covering the
desk is on shift and disabled otherwise (ADR 0024). A disabled mapping receives nothing: the desk's messages wait in
the queue for free, spending neither the receive budget nor the dead-letter queue.

``tools.deploy`` records the mappings' UUIDs (``.chalice/deployed/<stage>.json``) in the SSM parameter
``<prefix>desk-consumers`` as JSON ``{desk: uuid}``; the policy allows ``GetEventSourceMapping`` and
``UpdateEventSourceMapping`` on this account's mappings only."""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

ON_STATES = ("Enabled", "Enabling")
OFF_STATES = ("Disabled", "Disabling")


class UnknownConsumer(LookupError):
    """No mapping is recorded for the desk: deploy again (``make deploy``) to record it."""


def recorded_mappings(parameter: str) -> Callable[[], Mapping[str, str]]:
    """The recorded ``{desk: uuid}``, read through Powertools' parameter cache (five minutes)."""

    def read() -> Mapping[str, str]:
        from aws_lambda_powertools.utilities import parameters

        raw = parameters.get_parameter(parameter, max_age=300)
        value = json.loads(str(raw)) if raw else {}
        if not isinstance(value, dict):
            raise ValueError(f"{parameter} is not a JSON object of desk: mapping UUID")
        return {str(k): str(v) for k, v in value.items()}

    return read


class LambdaDeskConsumers:
    def __init__(self, client: Callable[[], Any], mappings: Callable[[], Mapping[str, str]]):
        self._client = client
        self._mappings = mappings
        self._lambda: Any = None

    def _uuid(self, desk: str) -> str:
        uuid = self._mappings().get(desk)
        if not uuid:
            raise UnknownConsumer(f"no consumer mapping is recorded for desk {desk}: run `make deploy` again")
        return uuid

    def _api(self) -> Any:
        if self._lambda is None:
            self._lambda = self._client()
        return self._lambda

    def _state(self, desk: str) -> tuple[str, str]:
        uuid = self._uuid(desk)
        return uuid, str(self._api().get_event_source_mapping(UUID=uuid).get("State", ""))

    def enabled(self, desk: str) -> bool:
        return self._state(desk)[1] in ON_STATES

    def switch(self, desk: str, on: bool) -> bool:
        uuid, state = self._state(desk)
        if state in (ON_STATES if on else OFF_STATES):
            return False
        self._api().update_event_source_mapping(UUID=uuid, Enabled=on)
        return True
