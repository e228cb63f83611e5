"""SQS batches without blind failure: Chalice's ``on_sqs_message`` has no ReportBatchItemFailures.

Each record is handled on its own. When some fail, the ones that succeeded are deleted from the queue explicitly
and the handler raises, so Lambda retries only the failed ones (and, after ``maxReceiveCount``, moves them to the
dead-letter queue). A record that asks to be retried later gets its visibility extended instead.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.domain import jsonvalue as jv
from chalicelib.domain.jsonvalue import JsonObject, is_object
from chalicelib.telemetry import count, logger, uncorrelate

if TYPE_CHECKING:  # the ports (and the domain they carry) load with the use case, not with every handler
    from chalicelib.store.ports import Queues


class RetryLater(Exception):
    """Leave this record on the queue and deliver it again in ``seconds``."""

    def __init__(self, seconds: int, reason: str = ""):
        super().__init__(reason or f"retry in {seconds}s")
        self.seconds = int(seconds)


class BatchPartiallyFailed(Exception):
    """Raised after the successful records were deleted, so that Lambda redelivers only the failed ones."""


@dataclass
class Record:
    message_id: str
    receipt_handle: str
    body: str
    receive_count: int

    def json(self) -> Any:
        return json.loads(self.body)


def _record(record: object) -> Record:
    if not is_object(record):
        raise TypeError("an SQS record is not an object")
    attributes = record.get("attributes") or {}
    if not is_object(attributes):
        raise TypeError("an SQS record's attributes are not an object")
    receive_count = attributes.get("ApproximateReceiveCount", "1")
    if not isinstance(receive_count, (str, int, float)):
        raise TypeError("an SQS record's ApproximateReceiveCount is not a number")
    return Record(message_id=jv.text(record, "messageId"), receipt_handle=jv.text(record, "receiptHandle"),
                  body=jv.text(record, "body"), receive_count=int(receive_count))


def records_from_event(event: JsonObject) -> list[Record]:
    """The records of an SQS event (Lambda's ``Records``); ``TypeError`` for an event not of that shape."""
    records = event.get("Records", [])
    if not isinstance(records, list):
        raise TypeError("the SQS event's Records is not a list")
    return [_record(r) for r in records]


def run_batch(records: Iterable[Record], handle: Callable[[Record], Any], *, queue_name: str,
              queues: Queues) -> dict[str, str | int]:
    records = list(records)
    done: list[Record] = []
    failed: list[tuple[Record, str]] = []
    for record in records:
        uncorrelate()  # the ticket reference a use case logs with belongs to one record, never the next
        try:
            handle(record)
            done.append(record)
        except RetryLater as later:
            try:
                queues.delay_redelivery(queue_name, record.receipt_handle, later.seconds)
            except Exception:  # it comes back after the queue's visibility timeout instead; the batch carries on
                logger.exception("record not delayed", extra={"message_id": record.message_id, "queue": queue_name})
            failed.append((record, f"retry later: {later}"))
        except Exception as exc:  # one bad record never decides its neighbours' fate
            logger.exception("record failed", extra={"message_id": record.message_id, "queue": queue_name})
            count("RecordsFailed", queue=queue_name)
            failed.append((record, f"{type(exc).__name__}: {exc}"))
    uncorrelate()
    summary: dict[str, str | int] = {"queue": queue_name, "succeeded": len(done), "failed": len(failed)}
    if failed:
        if done:
            queues.delete(queue_name, [r.receipt_handle for r in done])
        logger.warning("batch partially failed", extra={**summary, "errors": [e for _, e in failed][:10]})
        raise BatchPartiallyFailed(f"{len(failed)} of {len(records)} records failed on {queue_name}")
    return summary
