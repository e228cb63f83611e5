"""What goes wrong in production, injected into the real app on moto.

- ``FaultPlan``: AWS errors at the app's own boto3 and pynamodb clients (a botocore ``before-call`` hook: throttling,
  a 5xx; an ``after-call`` hook: a read timeout after the call took effect), errors at every outbound send
  (``SendError`` as X, Meta and SES give them, retryable or not), and process death: ``ProcessDeath`` is not an
  ``Exception``, so no handler catches it and the batch is left on the queue, as when a Lambda times out or runs out
  of memory between two steps (before or after an AWS call, or after a send reached the platform).
- ``SqsTime``: moto's SQS reads the scenario's time instead of the wall clock, so visibility timeouts, delays and
  redeliveries follow the app's clock.
- ``serialized_moto``: each AWS call is atomic, as DynamoDB's conditional writes are (moto in-process is not
  thread-safe); threads interleave between calls.
- ``MetricsRecorder`` and ``LogCapture``: what the app emits.
"""
from __future__ import annotations

import contextlib
import io
import logging
import random
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError, ReadTimeoutError

from chalicelib.channels.base import OutboundMessage, Sender, SendError, SendResult


class ProcessDeath(BaseException):
    """The process running a handler died here (timeout, out of memory, crash): nothing after this point ran."""


#: Send failures as the senders report them (channels/x_api.py, meta_api.py, ses.py): (message, retryable,
#: retry_after).
SEND_FAILURES: dict[str, list[tuple[str, bool, float | None]]] = {
    "x": [("X rate limit: 429 Too Many Requests", True, 60.0),
          ("X server error: 503 Service Unavailable", True, None),
          ("network error: ReadTimeout", True, None),
          ("X rejected the message (duplicate content): 403 Forbidden - Status is a duplicate.", False, None),
          ("X rejected the message (forbidden): 403 Forbidden - You cannot send messages to this user.", False,
           None)],
    "meta": [("Graph API rate limited: (#4) Application request limit reached", True, None),
             ("Graph API network error: ConnectionError", True, None),
             ("Graph API rejected: (#551) This person isn't available right now.", False, None)],
    "email": [("SES Throttling: Maximum sending rate exceeded.", True, None),
              ("SES MessageRejected: Email address is not verified.", False, None)],
}
FAMILY = {"x": "x", "facebook": "meta", "instagram": "meta", "messenger": "meta", "email": "email", "form": "email"}

AWS_ERRORS = {  # service -> (code, HTTP status) of the throttling and server-side errors it answers with
    "dynamodb": (("ThrottlingException", 400), ("InternalServerError", 500)),
    "sqs": (("ThrottlingException", 400), ("ServiceUnavailable", 503)),
}


class FaultPlan:
    """Decides, reproducibly from ``seed``, where faults and process deaths happen, and counts them.

    ``rate``: the chance that one AWS call or one send fails. ``death_rate``: the chance that one handler
    invocation dies, at a random one of its first ``DEATH_WINDOW`` AWS calls or sends (before or after it)."""

    DEATH_WINDOW = 40

    def __init__(self, rate: float, death_rate: float, seed: int = 1):
        self.rate = rate
        self.death_rate = death_rate
        self.enabled = True
        self.counts: Counter[str] = Counter()
        #: forced outcomes of the sends replying to these posts (``force_send``), each used once
        self.forced: dict[str, str] = {}
        #: idempotency keys whose send met an injected fault or a death (their order of sending is not checked)
        self.troubled: set[str] = set()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._local = threading.local()

    # ------------------------------------------------------------------ bookkeeping
    def _roll(self, chance: float) -> float | None:
        """A random number below ``chance`` (a fault happens), else None."""
        with self._lock:
            value = self._rng.random()
        return value if self.enabled and value < chance else None

    def _count(self, kind: str) -> None:
        with self._lock:
            self.counts[kind] += 1
        self._local.faults = getattr(self._local, "faults", 0) + 1

    def faults_in_this_thread(self) -> int:
        return int(getattr(self._local, "faults", 0))

    @contextlib.contextmanager
    def invocation(self) -> Iterator[None]:
        """A handler invocation (one Lambda process) in this thread: it may die."""
        local = self._local
        local.calls = 0
        local.die_at = None
        if self._roll(self.death_rate) is not None:
            with self._lock:
                local.die_at = (self._rng.randint(1, self.DEATH_WINDOW), self._rng.random() < 0.5)
        local.in_handler = True
        try:
            yield
        finally:
            local.in_handler = False
            local.die_at = None

    @contextlib.contextmanager
    def platform(self) -> Iterator[None]:
        """Inside a platform (the sandbox outbox stands in for X, Meta and SES): its own storage does not fail;
        the send's faults are injected around it."""
        self._local.platform = True
        try:
            yield
        finally:
            self._local.platform = False

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """The harness's own reads and writes in this thread (the operator's, the checks'): no fault, no death."""
        saved = getattr(self._local, "quiet", False)
        self._local.quiet = True
        try:
            yield
        finally:
            self._local.quiet = saved

    def _quiet(self) -> bool:
        local = self._local
        return not self.enabled or bool(getattr(local, "platform", False)) or bool(getattr(local, "quiet", False))

    # ------------------------------------------------------------------ targeted faults
    def force_send(self, in_reply_to: str, outcome: str) -> None:
        """The next send replying to post ``in_reply_to`` reaches the platform, then: ``unknown`` — the answer never
        comes (a read timeout after the request went out); ``die`` — the process sending it dies (cut off mid-call).
        Whether or not random faults are on."""
        if outcome not in ("unknown", "die"):
            raise ValueError(outcome)
        with self._lock:
            self.forced[in_reply_to] = outcome

    def _forced(self, message: OutboundMessage) -> str | None:
        with self._lock:
            return self.forced.pop(message.in_reply_to, None) if message.in_reply_to else None

    def _step(self, after: bool, where: str) -> None:
        """One AWS call or send, seen before (``after`` False) or after it: die here if this is the spot."""
        local = self._local
        if not getattr(local, "in_handler", False) or local.die_at is None or self._quiet():
            return
        if not after:
            local.calls += 1
        spot, die_after = local.die_at
        if local.calls == spot and die_after == after:
            local.die_at = None
            self._count(f"death {'after' if after else 'before'} {where}")
            raise ProcessDeath(f"process died {'after' if after else 'before'} {where}")

    # ------------------------------------------------------------------ AWS (botocore events)
    def before_call(self, event_name: str = "", **_: Any) -> None:
        if self._quiet():
            return
        service, operation = (event_name.split(".") + ["", "", ""])[1:3]
        self._step(False, f"{service}.{operation}")
        chance = self._roll(self.rate * 2 / 3)
        if chance is None:
            return
        throttle, server = AWS_ERRORS.get(service, AWS_ERRORS["dynamodb"])
        code, status = throttle if chance < self.rate / 3 else server
        self._count(f"aws {code}")
        raise ClientError({"Error": {"Code": code, "Message": f"injected {code}"},
                           "ResponseMetadata": {"HTTPStatusCode": status}}, operation)

    def after_call(self, event_name: str = "", **_: Any) -> None:
        if self._quiet():
            return
        service, operation = (event_name.split(".") + ["", "", ""])[1:3]
        self._step(True, f"{service}.{operation}")
        if self._roll(self.rate / 3) is not None:  # the call took effect; its answer never arrived
            self._count("aws ReadTimeout (after the call took effect)")
            raise ReadTimeoutError(endpoint_url=f"https://{service}.eu-west-2.amazonaws.com/")

    def hook(self, client: Any) -> Callable[[], None]:
        """Inject into one botocore client; returns the undo."""
        client.meta.events.register("before-call", self.before_call, unique_id=f"fault-before-{id(self)}")
        client.meta.events.register("after-call", self.after_call, unique_id=f"fault-after-{id(self)}")

        def undo() -> None:
            client.meta.events.unregister("before-call", unique_id=f"fault-before-{id(self)}")
            client.meta.events.unregister("after-call", unique_id=f"fault-after-{id(self)}")

        return undo

    # ------------------------------------------------------------------ outbound sends
    def before_send(self, channel: str) -> None:
        self._step(False, f"send on {channel}")
        if self._roll(self.rate) is None:
            return
        with self._lock:
            message, retryable, retry_after = self._rng.choice(SEND_FAILURES[FAMILY.get(channel, "x")])
        self._count(f"send {'retryable' if retryable else 'permanent'} ({FAMILY.get(channel, channel)})")
        raise SendError(message, retryable=retryable, retry_after=retry_after)

    def after_send(self, channel: str) -> None:
        self._step(True, f"send on {channel} (the platform has it)")


class FaultySender:
    """A sender with faults in front and a record of what reached the platform behind."""

    def __init__(self, inner: Sender, channel: str, plan: FaultPlan, reached: Counter[str], lock: threading.Lock):
        self._inner, self._channel, self._plan = inner, channel, plan
        self._reached, self._lock = reached, lock

    def send(self, message: OutboundMessage) -> SendResult:
        plan, key = self._plan, message.idempotency_key
        forced = plan._forced(message)
        try:
            if forced is None:
                plan.before_send(self._channel)
            with plan.platform():
                result = self._inner.send(message)
            with self._lock:
                self._reached[key] += 1
            if forced == "unknown":
                plan._count("forced: send reached the platform, then no answer")
                raise SendError("network error: ReadTimeout (after the request went out)", retryable=True,
                                outcome_unknown=True)
            if forced == "die":
                plan._count("forced: process died during a send that reached the platform")
                raise ProcessDeath(f"process died while sending on {self._channel} (the platform has it)")
            plan.after_send(self._channel)
        except BaseException:
            with self._lock:
                plan.troubled.add(key)
            raise
        return result


def hook_app_clients(svc: Any, plan: FaultPlan) -> Callable[[], None]:
    """Faults at every AWS client the app uses: its SQS client and pynamodb's DynamoDB clients (one per model's
    connection). Returns the undo."""
    from chalicelib.store.models import ALL_MODELS

    clients = [svc.queues._sqs] + [model._get_connection().connection.client for model in ALL_MODELS]
    undos = [plan.hook(client) for client in {id(c): c for c in clients}.values()]
    def undo_all() -> None:
        for undo in undos:
            undo()

    return undo_all


def faulty_senders(svc: Any, plan: FaultPlan) -> tuple[Counter[str], Callable[[], None]]:
    """Wrap the sender factory of ``svc``: every send may fail, and what reached a platform is counted per
    idempotency key. Returns the count and the undo."""
    reached: Counter[str] = Counter()
    lock = threading.Lock()
    factory = svc.sender_factory
    svc.sender_factory = lambda channel: FaultySender(factory(channel), channel, plan, reached, lock)
    svc._senders.clear()

    def undo() -> None:
        svc.sender_factory = factory
        svc._senders.clear()

    return reached, undo


class SqsTime:
    """The time moto's SQS lives in. It moves with the scenario's clock, except that a jump over a quiet stretch
    (nothing waiting to become visible) moves it by at most ``cap``: weeks of replayed traffic do not age the
    dead-letter and desk queues past their retention."""

    def __init__(self, start: datetime, cap: timedelta = timedelta(seconds=60)):
        self._epoch = start.timestamp()
        self._cap = cap.total_seconds()
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._epoch

    def advance(self, seconds: float, *, capped: bool = True) -> None:
        with self._lock:
            self._epoch += min(seconds, self._cap) if capped else seconds

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        import importlib

        sqs_models: Any = importlib.import_module("moto.sqs.models")
        saved = sqs_models.unix_time, sqs_models.unix_time_millis
        sqs_models.unix_time = lambda dt=None: self._epoch
        sqs_models.unix_time_millis = lambda dt=None: self._epoch * 1000.0
        try:
            yield
        finally:
            sqs_models.unix_time, sqs_models.unix_time_millis = saved


@contextlib.contextmanager
def serialized_moto() -> Iterator[None]:
    """One AWS call at a time inside moto, as each call is atomic in AWS."""
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.process_request
    lock = threading.RLock()

    def process_request(self: Any, request: Any) -> Any:
        with lock:
            return original(self, request)

    BotocoreStubber.process_request = process_request  # type: ignore[method-assign]
    try:
        yield
    finally:
        BotocoreStubber.process_request = original  # type: ignore[method-assign]


class MetricsRecorder:
    """Every metric the app counts (``telemetry.count``), whether or not EMF output is enabled: "Name" and
    "Name|dimension=value"."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        from chalicelib import telemetry

        original = telemetry.count

        def count(name: str, value: float = 1, **dimensions: str) -> None:
            with self._lock:
                self.counts[name] += int(value)
                for key, dim in dimensions.items():
                    self.counts[f"{name}|{key}={dim}"] += int(value)
            original(name, value, **dimensions)

        patched = [module for name, module in list(sys.modules.items())
                   if (name == "app" or name.startswith("chalicelib.")) and getattr(module, "count", None) is original]
        for module in patched:
            module.count = count  # type: ignore[attr-defined]
        try:
            yield
        finally:
            for module in patched:
                module.count = original  # type: ignore[attr-defined]


class LogCapture(logging.Handler):
    """The app's log output at INFO (production's level), formatted as the app formats it (Powertools JSON), and
    what it prints on stdout; the console handler is set aside meanwhile so the run stays readable."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        from chalicelib.telemetry import logger

        self.setFormatter(logger.registered_formatter)
        self._lines: list[str] = []
        self._lock_lines = threading.Lock()
        self.stdout = io.StringIO()
        self.records = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a record that cannot be formatted is still evidence
            line = f"{record.getMessage()} {record.exc_text or ''}"
        with self._lock_lines:
            self._lines.append(line)
            self.records += 1

    @property
    def text(self) -> str:
        with self._lock_lines:
            return "\n".join(self._lines)

    def mark(self) -> int:
        with self._lock_lines:
            return len(self._lines)

    def since(self, mark: int) -> list[str]:
        """The lines logged after ``mark``."""
        with self._lock_lines:
            return self._lines[mark:]

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        from chalicelib.telemetry import logger

        app_logger = logger._logger
        app_loggers = [app_logger] + [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
                                      if "chalicelib" in name]
        levels = [(lg, lg.level) for lg in app_loggers]
        console = [h for h in app_logger.handlers if isinstance(h, logging.StreamHandler)]
        for handler in console:
            app_logger.removeHandler(handler)
        for lg in app_loggers:
            lg.setLevel(logging.INFO)
        logging.root.addHandler(self)
        propagate = app_logger.propagate
        app_logger.propagate = True
        try:
            with contextlib.redirect_stdout(self.stdout):
                yield
        finally:
            logging.root.removeHandler(self)
            app_logger.propagate = propagate
            for lg, level in levels:
                lg.setLevel(level)
            for handler in console:
                app_logger.addHandler(handler)

