"""The Lambda Runtime API (version 2018-06-01) for one execution environment, served on
loopback to the function's ``bootstrap`` (``AWS_LAMBDA_RUNTIME_API``): the runtime asks for
its next invocation and posts the answer or the error; the executor hands invocations in and
waits for them. Standard library only, so it can be tested without LocalStack.
"""

import json
import queue
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"


@dataclass
class Invocation:
    """One invocation, from the moment it is handed in until its outcome is known."""

    request_id: str
    payload: bytes
    function_arn: str
    trace_id: str
    deadline_ms: int
    done: threading.Event = field(default_factory=threading.Event)
    #: The runtime's answer (its response, or its error document).
    result: bytes = b""
    is_error: bool = False

    def finish(self, result: bytes, is_error: bool) -> None:
        if not self.done.is_set():
            self.result, self.is_error = result, is_error
            self.done.set()


class RuntimeApi:
    """The Runtime API of one execution environment, on 127.0.0.1 and a port of its own."""

    def __init__(self) -> None:
        self._pending: "queue.Queue[Invocation]" = queue.Queue()
        self._running: dict[str, Invocation] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        #: Set when the runtime first asks for an invocation: its initialisation is over.
        self.ready = threading.Event()
        #: The runtime's initialisation error, if it reported one.
        self.init_error: bytes | None = None
        api = self

        class Handler(_Handler):
            runtime_api = api

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="lambda-runtime-api", daemon=True)

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def submit(self, invocation: Invocation) -> None:
        """Hands `invocation` to the runtime's next (or waiting) request for one."""
        with self._lock:
            self._running[invocation.request_id] = invocation
        self._pending.put(invocation)

    def fail_all(self, error: bytes) -> None:
        """Ends every invocation handed in and not finished with `error` (the runtime died)."""
        with self._lock:
            running = list(self._running.values())
            self._running.clear()
        for invocation in running:
            invocation.finish(error, is_error=True)

    def close(self) -> None:
        self._closed.set()
        self._server.shutdown()
        self._server.server_close()

    # The runtime's side.

    def next_invocation(self) -> Invocation | None:
        """Blocks until an invocation is handed in; None once the API is closed."""
        self.ready.set()
        while not self._closed.is_set():
            try:
                return self._pending.get(timeout=0.2)
            except queue.Empty:
                continue
        return None

    def answer(self, request_id: str, body: bytes, is_error: bool) -> bool:
        with self._lock:
            invocation = self._running.pop(request_id, None)
        if invocation is None:
            return False
        invocation.finish(body, is_error)
        return True


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A runtime that went away mid-request (stopped, timed out) is not an error here.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    runtime_api: RuntimeApi

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # the runtime's own requests are not worth a line each

    def _reply(self, status: HTTPStatus, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        if self.path != f"{PREFIX}/invocation/next":
            self._reply(HTTPStatus.NOT_FOUND, b'{"errorMessage":"no such route"}')
            return
        invocation = self.runtime_api.next_invocation()
        if invocation is None:
            self._reply(HTTPStatus.GONE, b'{"errorMessage":"the environment is shutting down"}')
            return
        self._reply(
            HTTPStatus.OK,
            invocation.payload,
            {
                "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
                "Lambda-Runtime-Trace-Id": invocation.trace_id,
            },
        )

    def do_POST(self) -> None:
        body = self._body()
        parts = self.path.removeprefix(PREFIX).strip("/").split("/")
        if parts == ["init", "error"]:
            self.runtime_api.init_error = body or b'{"errorMessage":"the runtime failed to start"}'
            self._reply(HTTPStatus.ACCEPTED, b'{"status":"OK"}')
            return
        if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
            if self.runtime_api.answer(parts[1], body, is_error=parts[2] == "error"):
                self._reply(HTTPStatus.ACCEPTED, b'{"status":"OK"}')
            else:
                message = json.dumps({"errorMessage": f"no invocation {parts[1]} is running"}).encode()
                self._reply(HTTPStatus.BAD_REQUEST, message)
            return
        self._reply(HTTPStatus.NOT_FOUND, b'{"errorMessage":"no such route"}')


def deadline_ms(timeout_seconds: float) -> int:
    """The Runtime API's deadline: milliseconds since the epoch."""
    return int((time.time() + timeout_seconds) * 1000)
