"""The embedded local AWS stack: ``make run``.

Starts a moto server on 127.0.0.1 (``LOCAL_AWS_PORT``, default 4566), creates the infra stack from
``infra/template.yaml`` through the CloudFormation API, then runs the Chalice app with stage ``local``:
the HTTP API on 127.0.0.1 (``PORT``, default 8000), every ``@app.schedule`` handler on its schedule, and every
``@app.on_sqs_message`` handler fed real SQS events from its queue, as Lambda would. Ctrl-C stops it all.

The HTTP server is Chalice's local server with two differences (``LocalRequestHandler``): a path no route matches
answers the JSON 404 the deployed API answers (``tools.gateway_responses``), not API Gateway's 403 "Missing
Authentication Token"; and each request is logged at DEBUG, not printed. ``RESPONDER_LOG_LEVEL`` (default INFO)
sets the level of the local stack's own log and, when given, of the app's log (``POWERTOOLS_LOG_LEVEL``):
``RESPONDER_LOG_LEVEL=DEBUG make run`` shows every request.
"""
from __future__ import annotations

import functools
import importlib
import json
import logging
import os
import re
import signal
import socket
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT = Path(__file__).resolve().parent.parent
TEMPLATE = PROJECT / "infra" / "template.yaml"
STACK_NAME = "responder-local"
REGION = "eu-west-2"
#: The local stack's own log (request lines at DEBUG); the app logs through Powertools on stdout.
LOG = logging.getLogger("local_stack")


@dataclass
class LambdaContext:
    """Enough of the Lambda context object for Chalice and Powertools."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_s: int = 60

    def __post_init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = (f"arn:aws:lambda:{REGION}:123456789012:function:"
                                     f"responder-local-{self.function_name}")
        self.function_version = "$LATEST"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + self.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def local_environment(aws_port: int, http_port: int) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{aws_port}",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{http_port}",
    }


def quiet() -> None:
    """The local AWS answers silently: no request log lines, no warnings about resources moto skips."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Tried to parse AWS::CloudWatch::Alarm")
    warnings.filterwarnings("ignore", message="Tried to parse AWS::Cognito::")  # created by tools.local_agents
    warnings.filterwarnings("ignore", message="No application metrics to publish")


def configure_logging(env: Mapping[str, str] | None = None) -> int:
    """``RESPONDER_LOG_LEVEL`` (default INFO) for the local stack's log on stderr; when given, the app logs at that
    level too, whatever .chalice/config.json says. Returns the level."""
    env = os.environ if env is None else env
    name = (env.get("RESPONDER_LOG_LEVEL") or "INFO").upper()
    level = logging.getLevelName(name)
    if not isinstance(level, int):
        raise SystemExit(f"RESPONDER_LOG_LEVEL={name}: use DEBUG, INFO, WARNING or ERROR")
    if env.get("RESPONDER_LOG_LEVEL"):
        os.environ["POWERTOOLS_LOG_LEVEL"] = name  # before the app's logger is built; config.json only sets defaults
    if not LOG.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(name)s] %(message)s"))
        LOG.addHandler(handler)
        LOG.propagate = False
    LOG.setLevel(level)
    return level


def local_request_handler(app) -> type:
    """Chalice's local request handler, answering unknown routes as the deployed API does and logging requests
    at DEBUG."""
    from chalice.local import ChaliceRequestHandler, RouteMatcher

    from tools.gateway_responses import STATUS, not_found_body

    routes = RouteMatcher(list(app.routes))

    class LocalRequestHandler(ChaliceRequestHandler):
        def _generic_handle(self) -> None:
            try:
                routes.match_route(self.path)
            except ValueError:  # no route: API Gateway's MISSING_AUTHENTICATION_TOKEN, answered as deployed
                self._parse_payload()  # read the body, so that the connection can serve the next request
                body = json.dumps(not_found_body(self.command, urlsplit(self.path).path)).encode()
                self._send_http_response(STATUS, {"Content-Type": "application/json", "Cache-Control": "no-store",
                                                  "X-Content-Type-Options": "nosniff"}, body)
                return
            super()._generic_handle()

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the name BaseHTTPRequestHandler uses
            LOG.debug("%s %s", self.address_string(), format % args)

        def log_error(self, format: str, *args: Any) -> None:  # noqa: A002
            LOG.warning("%s %s", self.address_string(), format % args)

    return LocalRequestHandler


def create_http_server(app, config, host: str, port: int):
    """Chalice's local server (``chalice.local.create_local_server``) with ``LocalRequestHandler``."""
    from chalice.local import LocalChalice, LocalDevServer, create_local_server

    if isinstance(app, LocalChalice):  # made local already (a second server in one process)
        http = LocalDevServer(app, config, host, port)
    else:
        http = create_local_server(app, config, host, port)
    http.server.RequestHandlerClass = functools.partial(local_request_handler(app), app_object=app, config=config)
    return http


class MotoProcess:
    """The moto server in a process of its own, so the app and the local AWS do not share one interpreter."""

    def __init__(self, port: int):
        import subprocess

        self.port = port
        self.proc = subprocess.Popen([sys.executable, "-m", "tools.local_aws", "-H", "127.0.0.1", "-p", str(port)],
                                     cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the moto server exited (is port {port} free? set LOCAL_AWS_PORT)")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the moto server did not listen on 127.0.0.1:{port}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()


def start_moto(port: int) -> MotoProcess:
    return MotoProcess(port)


def create_stack(endpoint_url: str, stage: str = "local") -> dict[str, str]:
    """Create the infra stack from the same template ops deploy; returns its outputs."""
    import boto3

    cfn = boto3.client("cloudformation", endpoint_url=endpoint_url, region_name=REGION)
    cfn.create_stack(StackName=STACK_NAME, TemplateBody=TEMPLATE.read_text(),
                     Parameters=[{"ParameterKey": "Stage", "ParameterValue": stage}])
    for _ in range(100):
        stack = cfn.describe_stacks(StackName=STACK_NAME)["Stacks"][0]
        if stack["StackStatus"].endswith("_COMPLETE"):
            break
        time.sleep(0.1)
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"stack {STACK_NAME}: {stack['StackStatus']} {stack.get('StackStatusReason', '')}")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def create_agents(endpoint_url: str) -> dict[str, str]:
    """The agents' user pool (moto's cognito-idp is not created by CloudFormation there): AGENT_POOL_ID/CLIENT_ID."""
    import boto3

    from chalicelib.configfile import load_config
    from tools.local_agents import create_pool

    teams = load_config(os.environ.get("BRAND_CONFIG") or str(PROJECT / "chalicelib" / "brand.yaml")).team_ids
    return create_pool(boto3.client("cognito-idp", endpoint_url=endpoint_url, region_name=REGION), teams)


def chalice_config(stage: str = "local"):
    from chalice.cli.factory import CLIFactory

    return CLIFactory(str(PROJECT), environ=dict(os.environ)).create_config_obj(chalice_stage_name=stage)


def load_app():
    sys.path.insert(0, str(PROJECT))
    return importlib.import_module("app").app


def schedule_seconds(expression: Any) -> float:
    text = expression if isinstance(expression, str) else expression.to_string()
    match = re.match(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", text)
    if not match:
        raise ValueError(f"the local runner understands rate() schedules only, not {text!r}")
    value, unit = int(match.group(1)), match.group(2).rstrip("s")
    return value * {"minute": 60, "hour": 3600, "day": 86400}[unit]


def scheduled_event(name: str) -> dict[str, Any]:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": now, "region": REGION,
            "resources": [f"arn:aws:events:{REGION}:123456789012:rule/responder-local-{name}"], "detail": {}}


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
        "md5OfBody": m.get("MD5OfBody", ""), "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
        "awsRegion": REGION} for m in messages]}


#: desk queues are received only while their consumer is switched on (ADR 0024)
DESK_QUEUE_PREFIX = "responder-desk-"
#: run once as the stack starts, then on their schedule: the desk consumers follow the rota from the first minute,
#: as a deploy leaves them (tools.deploy switches them off; follow_rota's first run turns on those on shift)
RUN_AT_START = ("follow_rota",)


class Runner:
    """Calls the app's schedule and SQS handlers as Lambda would, on background threads."""

    def __init__(self, app, *, endpoint_url: str, log: Callable[[str], None] = print, poll_wait: int = 1,
                 concurrency: int = 4):
        import boto3

        self.app = app
        self.sqs = boto3.client("sqs", endpoint_url=endpoint_url, region_name=REGION)
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.log = log
        self.poll_wait = poll_wait
        self.concurrency = concurrency

    def start(self) -> None:
        from chalice.app import ScheduledEventConfig, SQSEventConfig

        for source in self.app.event_sources:
            if isinstance(source, ScheduledEventConfig):
                target, args = self._schedule_loop, (source.name, schedule_seconds(source.schedule_expression))
            elif isinstance(source, SQSEventConfig):
                target, args = self._sqs_loop, (source.name, source.queue, source.batch_size or 10)
            else:
                continue
            copies = self.concurrency if target == self._sqs_loop else 1
            for n in range(copies):  # Lambda runs several batches of one queue at once
                thread = threading.Thread(target=target, args=args, name=f"handler-{source.name}-{n}", daemon=True)
                thread.start()
                self.threads.append(thread)

    def _schedule_loop(self, name: str, period: float) -> None:
        handler = self.app.handler_map[name]
        wait = 0.0 if name in RUN_AT_START else period
        while not self.stop.wait(wait):
            wait = period
            try:
                result = handler(scheduled_event(name), LambdaContext(name))
                self.log(f"[schedule] {name}: {result}")
            except Exception as exc:  # a failed run is logged, the schedule goes on, as with EventBridge
                self.log(f"[schedule] {name} failed: {type(exc).__name__}: {exc}")

    def _sqs_loop(self, name: str, queue: str, batch_size: int) -> None:
        handler = self.app.handler_map[name]
        url = self.sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        desk = queue.removeprefix(DESK_QUEUE_PREFIX) if queue.startswith(DESK_QUEUE_PREFIX) else None
        while not self.stop.is_set():
            if desk is not None and not self._consumer_on(desk):  # a disabled mapping receives nothing
                self.stop.wait(self.poll_wait)
                continue
            try:
                messages = self.sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=min(10, batch_size), WaitTimeSeconds=self.poll_wait,
                    AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
            except Exception as exc:
                if self.stop.is_set():
                    return
                self.log(f"[sqs] {queue}: receive failed: {exc}")
                time.sleep(1)
                continue
            if not messages:
                continue
            try:
                handler(sqs_event(messages, arn), LambdaContext(name))
            except Exception as exc:  # as Lambda: what the handler did not delete comes back after its timeout
                self.log(f"[sqs] {name}: not all done, the rest comes back later ({type(exc).__name__}: {exc})")
                continue
            self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])

    def _consumer_on(self, desk: str) -> bool:
        """The desk consumer's switch, as Lambda's pollers follow their mapping's state (``follow_rota`` sets it)."""
        from chalicelib.bootstrap import services

        try:
            return services().consumers.enabled(desk)
        except Exception as exc:  # the store is not there yet: nothing is received, as with a mapping being created
            self.log(f"[sqs] {desk}: consumer state unknown ({type(exc).__name__}: {exc})")
            return False

    def shutdown(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=5)


def serve(*, aws_port: int, http_port: int, announce: bool = True):
    """Start everything; returns (moto server, http server, runner, http thread)."""
    quiet()
    configure_logging()
    os.environ.update(local_environment(aws_port, http_port))
    moto_server = start_moto(aws_port)
    try:
        endpoint = os.environ["AWS_ENDPOINT_URL"]
        outputs = create_stack(endpoint)
        config = chalice_config("local")
        for key, value in config.environment_variables.items():
            os.environ.setdefault(key, value)
        os.environ.update(local_environment(aws_port, http_port))  # the runner's ports win over config.json
        os.environ.update(create_agents(endpoint))
        app = load_app()
        http = create_http_server(app, config, "127.0.0.1", http_port)
    except BaseException:
        moto_server.stop()  # never a local AWS left running behind a failed start
        raise
    http_thread = threading.Thread(target=http.serve_forever, name="http", daemon=True)
    http_thread.start()
    runner = Runner(app, endpoint_url=endpoint, concurrency=int(os.environ.get("LOCAL_SQS_CONCURRENCY", "4")))
    runner.start()
    if announce:
        base = f"http://127.0.0.1:{http_port}"
        clock = os.environ.get("RESPONDER_CLOCK")
        tables = ", ".join(v for k, v in outputs.items() if k.endswith("Table"))
        print(f"""
Responder is running (stage local){f' - clock starts at {clock}' if clock else ''}
  API            {base}/health
  outbox         {base}/local/outbox      (messages the app would have sent)
  team feed      {base}/local/notifications/view   (what Slack, Teams and the webhook would have received)
  agents' inbox  {base}/inbox             (sign in as amira / Amira-local-1; more: python -m tools.local_agents)
  rota           {base}/admin/rota        (Authorization: Bearer local-admin-token)
  X webhook      {base}/webhooks/x        (secret: local-x-consumer-secret)
  Meta webhook   {base}/webhooks/meta     (secret: local-meta-app-secret)
  Bluesky        POST {base}/local/bluesky/mentions   {{"handle": "pat.bsky.social", "text": "..."}}
  Mastodon       POST {base}/local/mastodon/mentions  {{"acct": "pat@fedi.example", "text": "..."}}
  Threads        {base}/webhooks/threads  (secret: local-threads-app-secret), or
                 POST {base}/local/threads/mentions   {{"username": "pat.rides", "text": "...", "reply_to": "..."}}
                 (the X, Bluesky, Mastodon and Threads pollers read empty local stand-ins: nothing leaves this machine)
  Listening      POST {base}/local/listening/posts    {{"channel": "x", "text": "... Meridian Rail ..."}}
                 (posts that name the brand without tagging it; poll_listening reads them every 5 minutes, or now:
                 POST {base}/local/schedules/poll_listening)
  local AWS      {endpoint}   (AWS_ENDPOINT_URL; tables {tables})
Replay real tweets:  make replay      Stop: Ctrl-C
""", flush=True)
    return moto_server, http, runner, http_thread


def port_in_use(port: int) -> bool:
    """Whether something on this machine already listens on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def busy_ports(aws_port: int, http_port: int) -> str:
    """One sentence naming each port in use and how to pick another; empty when both are free."""
    busy = [f"{port} ({name})" for name, port in (("PORT", http_port), ("LOCAL_AWS_PORT", aws_port))
            if port_in_use(port)]
    if not busy:
        return ""
    return (f"port {' and '.join(busy)} already in use on 127.0.0.1 (another `make run`?): stop it, or pick free "
            f"ports, e.g. PORT={http_port + 1} LOCAL_AWS_PORT={aws_port + 1} make run")


def main() -> int:
    try:
        aws_port = int(os.environ.get("LOCAL_AWS_PORT", "4566"))
        http_port = int(os.environ.get("PORT", "8000"))
    except ValueError:
        print("PORT and LOCAL_AWS_PORT must be port numbers, e.g. PORT=8001 LOCAL_AWS_PORT=4567 make run",
              file=sys.stderr)
        return 2
    busy = busy_ports(aws_port, http_port)
    if busy:
        print(busy, file=sys.stderr)
        return 2
    # Ctrl-C or SIGTERM at any moment, start-up included, ends in the same clean stop (never a traceback)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    moto_server, http, runner, _ = serve(aws_port=aws_port, http_port=http_port)
    while not stopped.wait(0.5):
        pass
    print("\nstopping…", flush=True)
    runner.shutdown()
    http.shutdown()
    moto_server.stop()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
