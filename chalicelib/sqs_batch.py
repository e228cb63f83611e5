"""SQS batches without blind failure: Chalice's ``on_sqs_message`` has no ReportBatchItemFailures.

Each record is handled on its own. When some fail, the ones that succeeded are deleted from the queue explicitly
and the handler raises, so Lambda retries only the failed ones (and, after ``maxReceiveCount``, moves them to the
dead-letter queue). A record that asks to be retried later gets its visibility extended instead.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from chalicelib.store.ports import Queues
from chalicelib.telemetry import count, logger, uncorrelate


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


def records_from_event(event: dict[str, Any]) -> list[Record]:
    return [
        Record(
            message_id=r.get("messageId", ""),
            receipt_handle=r.get("receiptHandle", ""),
            body=r.get("body", ""),
            receive_count=int((r.get("attributes") or {}).get("ApproximateReceiveCount", "1")),
        )
        for r in event.get("Records", [])
    ]


def run_batch(records: Iterable[Record], handle: Callable[[Record], Any], *, queue_name: str,
              queues: Queues) -> dict[str, Any]:
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
    summary = {"queue": queue_name, "succeeded": len(done), "failed": len(failed)}
    if failed:
        if done:
            queues.delete(queue_name, [r.receipt_handle for r in done])
        logger.warning("batch partially failed", extra={**summary, "errors": [e for _, e in failed][:10]})
        raise BatchPartiallyFailed(f"{len(failed)} of {len(records)} records failed on {queue_name}")
    return summary
