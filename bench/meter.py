"""What one piece of work costs in AWS calls and DynamoDB capacity, measured on moto in-process.

Every AWS call the app makes goes through ``botocore.client.BaseClient._make_api_call`` (boto3 and pynamodb's
clients alike): ``Meter`` wraps it, counts calls per ``service.Operation``, asks DynamoDB for its consumed capacity
(``ReturnConsumedCapacity=TOTAL``, as pynamodb already does) and sums what moto reports. moto reports a flat figure
(1 per write, 0.5 per read, whatever the item's size), so the write and read units are also computed from the
items themselves by DynamoDB's on-demand rules: a write costs one WRU per started KB of the larger of the item
before and after it (a conditional write that fails costs the same), a transactional write twice that; an
eventually consistent read 0.5 RRU per started 4 KB, a strongly consistent one 1, a query or scan the sum of the
sizes of the items it returns rounded up once. Item sizes come from the items stored in moto.
"""
from __future__ import annotations

import contextlib
import math
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

ACCOUNT = "123456789012"
WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
READS = {"GetItem", "Query", "Scan"}


def attribute_size(value: dict[str, Any]) -> int:
    """Bytes of one DynamoDB-JSON attribute value, by DynamoDB's item-size rules."""
    (kind, inner), = value.items()
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        digits = str(inner).lstrip("-").replace(".", "").lstrip("0") or "0"
        return 1 + math.ceil(len(digits) / 2)
    if kind == "B":
        return len(inner) if isinstance(inner, bytes | bytearray) else math.ceil(len(str(inner)) * 3 / 4)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + attribute_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + attribute_size(v) for k, v in inner.items())
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_size({kind[0]: v}) for v in inner)
    return 0


def item_size(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def stored_item(table: str, key: dict[str, Any], region: str) -> dict[str, Any] | None:
    """The item as moto stores it (DynamoDB JSON), or None."""
    from moto.dynamodb.models import dynamodb_backends

    try:
        found = dynamodb_backends[ACCOUNT][region].get_item(table, key)
    except Exception:
        return None
    if found is None:
        return None
    attributes: dict[str, Any] = found.to_json()["Attributes"]
    return attributes


@dataclass
class Usage:
    calls: Counter[str] = field(default_factory=Counter)
    wru: float = 0.0
    rru: float = 0.0
    moto_reported_capacity: float = 0.0  # what moto answered with ReturnConsumedCapacity (flat per call)

    def add(self, other: Usage) -> None:
        self.calls.update(other.calls)
        self.wru += other.wru
        self.rru += other.rru
        self.moto_reported_capacity += other.moto_reported_capacity

    def total_calls(self, service: str | None = None) -> int:
        return sum(n for op, n in self.calls.items() if service is None or op.startswith(service + "."))

    def as_dict(self) -> dict[str, Any]:
        return {"aws_calls": self.total_calls(), "calls_by_operation": dict(sorted(self.calls.items())),
                "dynamodb_wru": round(self.wru, 2), "dynamodb_rru": round(self.rru, 2),
                "moto_reported_capacity_units": round(self.moto_reported_capacity, 2)}


def _reported(response: dict[str, Any]) -> float:
    consumed = response.get("ConsumedCapacity")
    items = consumed if isinstance(consumed, list) else [consumed] if consumed else []
    return float(sum(c.get("CapacityUnits", 0) or 0 for c in items))


def _read_units(size: int, consistent: bool) -> float:
    return max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5)


def _write_units(*sizes: int) -> float:
    return float(max(1, math.ceil(max(sizes) / 1024)))


class Meter:
    """Counts AWS calls and DynamoDB capacity while installed; ``usage()`` reads and resets what was counted."""

    def __init__(self, region: str = "eu-west-2"):
        self.region = region
        self._usage = Usage()
        self._lock = threading.Lock()

    def usage(self) -> Usage:
        with self._lock:
            taken, self._usage = self._usage, Usage()
        return taken

    @contextlib.contextmanager
    def installed(self) -> Iterator[Meter]:
        import botocore.client

        original = botocore.client.BaseClient._make_api_call
        meter = self

        def metered(client: Any, operation: str, params: dict[str, Any]) -> Any:
            service = client.meta.service_model.service_name
            if service != "dynamodb":
                meter._count(f"{service}.{operation}")
                return original(client, operation, params)
            params = {**params, "ReturnConsumedCapacity": "TOTAL"} if operation in WRITES | READS | {
                "TransactWriteItems", "TransactGetItems", "BatchGetItem", "BatchWriteItem"} else params
            before = meter._sizes_before(operation, params)
            response: dict[str, Any] = {}
            try:
                response = original(client, operation, params)
                return response
            except Exception as exc:  # a failed conditional write still consumes its units
                response = getattr(exc, "response", {}) or {}
                raise
            finally:
                meter._account(operation, params, response, before)

        botocore.client.BaseClient._make_api_call = metered  # type: ignore[method-assign]
        try:
            yield self
        finally:
            botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]

    def _count(self, name: str) -> None:
        with self._lock:
            self._usage.calls[name] += 1

    def _sizes_before(self, operation: str, params: dict[str, Any]) -> list[int]:
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            key = params.get("Key") or self._key_of(params["TableName"], params.get("Item", {}))
            return [item_size(stored_item(params["TableName"], key, self.region))]
        if operation == "TransactWriteItems":
            sizes = []
            for entry in params.get("TransactItems", []):
                (kind, body), = entry.items()
                key = body.get("Key") or self._key_of(body["TableName"], body.get("Item", {}))
                sizes.append(item_size(stored_item(body["TableName"], key, self.region)))
            return sizes
        return []

    def _key_of(self, table: str, item: dict[str, Any]) -> dict[str, Any]:
        from moto.dynamodb.models import dynamodb_backends

        try:
            schema = dynamodb_backends[ACCOUNT][self.region].get_table(table).schema
        except Exception:
            return {}
        return {k["AttributeName"]: item[k["AttributeName"]] for k in schema if k["AttributeName"] in item}

    def _account(self, operation: str, params: dict[str, Any], response: dict[str, Any], before: list[int]) -> None:
        wru = rru = 0.0
        table = params.get("TableName", "")
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            key = params.get("Key") or self._key_of(table, params.get("Item", {}))
            after = item_size(stored_item(table, key, self.region))
            wru = _write_units(*(before or [0]), after, item_size(params.get("Item")))
        elif operation == "TransactWriteItems":
            for entry, old in zip(params.get("TransactItems", []), before, strict=False):
                (kind, body), = entry.items()
                if kind == "ConditionCheck":
                    rru += 2 * _read_units(old, True)
                    continue
                key = body.get("Key") or self._key_of(body["TableName"], body.get("Item", {}))
                new = item_size(stored_item(body["TableName"], key, self.region))
                wru += 2 * _write_units(old, new, item_size(body.get("Item")))
        elif operation == "GetItem":
            rru = _read_units(item_size(response.get("Item")), bool(params.get("ConsistentRead")))
        elif operation in ("Query", "Scan"):
            size = sum(item_size(item) for item in response.get("Items", []))
            rru = _read_units(size, bool(params.get("ConsistentRead")))
        elif operation == "BatchGetItem":
            for items in response.get("Responses", {}).values():
                rru += sum(_read_units(item_size(item), False) for item in items)
        elif operation == "TransactGetItems":
            rru = sum(2 * _read_units(item_size(r.get("Item")), True) for r in response.get("Responses", []))
        elif operation == "BatchWriteItem":
            for requests in params.get("RequestItems", {}).values():
                wru += sum(_write_units(item_size(r.get("PutRequest", {}).get("Item"))) for r in requests)
        with self._lock:
            self._usage.calls[f"dynamodb.{operation}"] += 1
            self._usage.wru += wru
            self._usage.rru += rru
            self._usage.moto_reported_capacity += _reported(response)
