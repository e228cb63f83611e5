"""SQS adapter: the inbound queue, one queue per desk, the outbox.

No ``GetQueueUrl`` on the way of a message: the URLs given in the settings (``INBOUND_QUEUE_URL``,
``OUTBOX_QUEUE_URL``, the stack's outputs) are used as they are, and every other queue's URL is derived from one of
them, since all the queues live in one account and region (``<endpoint>/<account id>/<queue name>``). Without any,
one queue's URL is looked up once per container and the others derived from it."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from chalicelib.domain.jsonvalue import JsonObject

MAX_SQS_BYTES = 256 * 1024


class SqsQueues:
    def __init__(self, sqs_client: Any, *, inbound: str, outbox: str, desk_queue_name: Callable[[str], str],
                 urls: dict[str, str] | None = None, notify: str = "responder-notify"):
        self._sqs = sqs_client
        self._names = {"inbound": inbound, "outbox": outbox, "notify": notify}
        self._desk_queue_name = desk_queue_name
        self._urls: dict[str, str] = {name: url for name, url in (urls or {}).items() if url}

    def url(self, name: str) -> str:
        if name not in self._urls:
            known = next(iter(self._urls.values()), None)
            if known is not None and "/" in known:
                self._urls[name] = known.rsplit("/", 1)[0] + "/" + name
            else:
                self._urls[name] = self._sqs.get_queue_url(QueueName=name)["QueueUrl"]
        return self._urls[name]

    def _send(self, queue_name: str, body: JsonObject, *, delay: int = 0,
              attributes: dict[str, str] | None = None) -> str:
        payload = json.dumps(body, separators=(",", ":"), default=str)
        if len(payload.encode()) > MAX_SQS_BYTES:
            raise ValueError(f"message of {len(payload.encode())} bytes exceeds the SQS limit")
        kwargs: dict[str, Any] = {"QueueUrl": self.url(queue_name), "MessageBody": payload}
        if delay:
            kwargs["DelaySeconds"] = max(0, min(900, int(delay)))
        if attributes:
            kwargs["MessageAttributes"] = {
                k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()}
        return str(self._sqs.send_message(**kwargs)["MessageId"])

    def send_inbound(self, envelope: JsonObject) -> str:
        return self._send(self._names["inbound"], envelope)

    def send_desk(self, desk: str, message: JsonObject) -> str:
        return self._send(self._desk_queue_name(desk), message,
                          attributes={"priority": str(message.get("priority", "normal")),
                                      "schema": str(message.get("schema", ""))})

    def send_outbox(self, message: JsonObject, *, delay: int = 0) -> str:
        return self._send(self._names["outbox"], message, delay=delay)

    def send_dead_letter(self, queue_name: str, body: JsonObject) -> str:
        """Park a message that can never succeed on ``<queue>-dlq`` (see README: DLQ redrive)."""
        return self._send(f"{queue_name}-dlq", body)

    def send_notices(self, messages: list[JsonObject]) -> None:
        url = self.url(self._names["notify"])
        for start in range(0, len(messages), 10):
            chunk = messages[start:start + 10]
            bodies = [json.dumps(m, separators=(",", ":"), default=str) for m in chunk]
            if any(len(b.encode()) > MAX_SQS_BYTES for b in bodies):
                raise ValueError("a notice exceeds the SQS limit")
            answer = self._sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies)])
            if answer.get("Failed"):  # the desk message is received again and every notice of it queued again
                raise RuntimeError(f"{len(answer['Failed'])} notices not queued: {answer['Failed'][0].get('Code')}")

    def delete(self, queue_name: str, receipt_handles: list[str]) -> None:
        url = self.url(queue_name)
        for start in range(0, len(receipt_handles), 10):
            chunk = receipt_handles[start:start + 10]
            self._sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(chunk)])

    def delay_redelivery(self, queue_name: str, receipt_handle: str, seconds: int) -> None:
        self._sqs.change_message_visibility(QueueUrl=self.url(queue_name), ReceiptHandle=receipt_handle,
                                            VisibilityTimeout=max(0, min(43_200, int(seconds))))

    def receive_desk(self, desk: str, *, max_messages: int = 10, wait: int = 0) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(QueueUrl=self.url(self._desk_queue_name(desk)),
                                             MaxNumberOfMessages=max_messages, WaitTimeSeconds=wait,
                                             MessageAttributeNames=["All"])
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def approximate_depth(self, queue_name: str) -> int:
        attrs = self._sqs.get_queue_attributes(QueueUrl=self.url(queue_name),
                                               AttributeNames=["ApproximateNumberOfMessages"])
        return int(attrs["Attributes"].get("ApproximateNumberOfMessages", 0))
