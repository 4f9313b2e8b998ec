"""LocalStack's Lambda execution environments as host processes.

LocalStack's own executor starts a Docker container per execution environment, with an init
binary it downloads first; neither is possible on a host with no Docker engine and no way
out. This one starts the function's ``bootstrap`` (a ``provided.*`` runtime's entry point,
from the deployment package LocalStack unzipped) as a child process, with the function's
environment and ``AWS_LAMBDA_RUNTIME_API`` pointing at a Runtime API served here. What it
keeps of Lambda: one invocation at a time per environment (LocalStack starts more
environments when invocations overlap), the function's timeout (past it, the invocation
ends as ``Sandbox.Timedout`` and the environment starts again, as on AWS), and the output,
which LocalStack sends to CloudWatch Logs with the invocation's START, END and REPORT lines.
What it does not: no sandbox, no memory limit, the host's own libraries.
"""

import json
import logging
import math
import os
import select
import subprocess
import threading
import time
from pathlib import Path
from typing import BinaryIO

from localstack import config
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException, RuntimeExecutor

from lambda_host_executor.runtime_api import Invocation, RuntimeApi, deadline_ms

LOG = logging.getLogger(__name__)

#: How long a stopped runtime may take to exit before it is killed.
STOP_GRACE_SECONDS = 2.0


class OutputLog:
    """A process's output, line by line, from which an invocation takes the lines it made.

    Marks count every line ever appended; only the last ``keep`` to ``2 * keep`` lines are
    kept, so an environment that serves for hours does not hold all it ever printed."""

    def __init__(self, keep: int = 10_000) -> None:
        self._lines: list[str] = []
        self._dropped = 0
        self._keep = keep
        self._lock = threading.Lock()

    def append(self, line: str) -> None:
        with self._lock:
            self._lines.append(line)
            if len(self._lines) > 2 * self._keep:
                dropped = len(self._lines) - self._keep
                del self._lines[:dropped]
                self._dropped += dropped

    def mark(self) -> int:
        with self._lock:
            return self._dropped + len(self._lines)

    def since(self, mark: int) -> str:
        with self._lock:
            return "".join(self._lines[max(mark - self._dropped, 0):])

    def text(self) -> str:
        return self.since(0)


class RuntimeOutput:
    """What a runtime process writes, taken into an :class:`OutputLog` line by line.

    A thread follows it as it comes. An invocation, once answered, takes what is left
    itself: the lines a runtime writes before its answer may still be in the pipe when the
    answer arrives, and they are the invocation's. Bytes leave the pipe only under the lock
    and are logged before it is let go, so whoever takes next finds every earlier line
    logged."""

    def __init__(self, pipe: BinaryIO, log: OutputLog) -> None:
        self._pipe = pipe
        self._fd = pipe.fileno()
        os.set_blocking(self._fd, False)
        self._log = log
        self._partial = b""
        self._closed = False
        self._lock = threading.Lock()

    def follow(self) -> None:
        """Takes the output as it comes, until the runtime closes it; then closes the pipe
        (here only, so no one reads it closed)."""
        while True:
            select.select([self._fd], [], [])
            if not self.take():
                break
        with self._lock:
            self._pipe.close()

    def take(self) -> bool:
        """Logs every whole line written so far; False once the output is closed."""
        with self._lock:
            while not self._closed:
                try:
                    chunk = os.read(self._fd, 65536)
                except BlockingIOError:
                    return True
                if not chunk:
                    if self._partial:
                        self._log.append(self._partial.decode(errors="replace"))
                    self._closed = True
                    break
                lines = (self._partial + chunk).split(b"\n")
                self._partial = lines.pop()
                for line in lines:
                    self._log.append(line.rstrip(b"\r").decode(errors="replace") + "\n")
            return False


class HostRuntimeExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.api: RuntimeApi | None = None
        self.process: subprocess.Popen | None = None
        self.output = OutputLog()
        self.runtime_output: RuntimeOutput | None = None
        self.env_vars: dict[str, str] = {}
        self._lock = threading.Lock()

    # The execution environment's life.

    def start(self, env_vars: dict[str, str]) -> None:
        self.env_vars = {name: str(value) for name, value in env_vars.items()}
        self._launch()

    def _launch(self) -> None:
        code = Path(self.function_version.config.code.get_unzipped_code_location())
        bootstrap = code / "bootstrap"
        api = RuntimeApi()
        api.start()
        environment = {
            **self.env_vars,
            "AWS_LAMBDA_RUNTIME_API": api.address,
            "LAMBDA_TASK_ROOT": str(code),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        }
        process = subprocess.Popen(
            [str(bootstrap)],
            cwd=code,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        output = RuntimeOutput(process.stdout, self.output)
        with self._lock:
            self.api, self.process, self.runtime_output = api, process, output
        threading.Thread(target=self._follow_output, args=(process, api, output), daemon=True).start()
        while not api.ready.is_set():
            if api.init_error is not None or process.poll() is not None:
                self._end(process, api)
                reason = api.init_error.decode(errors="replace") if api.init_error else f"exit status {process.returncode}"
                raise LambdaRuntimeException(f"the runtime of {self.function_version.qualified_arn} failed to start: {reason}")
            time.sleep(0.005)
        LOG.debug("execution environment %s started (pid %s)", self.id, process.pid)

    @staticmethod
    def _follow_output(process: subprocess.Popen, api: RuntimeApi, output: RuntimeOutput) -> None:
        output.follow()
        # The runtime exited: nothing it was doing will finish.
        error = {"errorType": "Runtime.ExitError", "errorMessage": f"Runtime exited with status {process.wait()}"}
        api.fail_all(json.dumps(error).encode())

    def stop(self) -> None:
        with self._lock:
            process, api = self.process, self.api
        if process is not None and api is not None:
            self._end(process, api)

    @staticmethod
    def _end(process: subprocess.Popen, api: RuntimeApi) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        api.close()

    # Invocations.

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        request_id = payload["invoke-id"]
        timeout = float(self.function_version.config.timeout)
        with self._lock:
            api, output = self.api, self.runtime_output
        mark = self.output.mark()
        self.output.append(f"START RequestId: {request_id} Version: {self.function_version.id.qualifier}\n")
        started = time.perf_counter()
        invocation = Invocation(
            request_id=request_id,
            payload=payload["payload"].encode(),
            function_arn=payload["invoked-function-arn"],
            trace_id=payload.get("trace-id", ""),
            deadline_ms=deadline_ms(timeout),
        )
        api.submit(invocation)
        answered = invocation.done.wait(timeout)
        if not answered:
            # As on AWS: the invocation ends as a timeout, and its environment starts afresh.
            self.stop()
        # Whatever the runtime wrote before it answered, died or was stopped is this
        # invocation's, even what its follower has not taken yet.
        output.take()
        if answered:
            result, is_error = invocation.result, invocation.is_error
        else:
            LOG.info("invocation %s of %s timed out after %.2f s", request_id, self.function_version.qualified_arn, timeout)
            error = {"errorType": "Sandbox.Timedout", "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds"}
            result, is_error = json.dumps(error).encode(), True
            self.output.append(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {error['errorMessage']}\n")
            try:
                self._launch()
            except LambdaRuntimeException as restart:
                LOG.warning("%s", restart)
        took_ms = (time.perf_counter() - started) * 1000
        self.output.append(f"END RequestId: {request_id}\n")
        self.output.append(
            f"REPORT RequestId: {request_id}\tDuration: {took_ms:.2f} ms\tBilled Duration: {math.ceil(took_ms)} ms\t"
            f"Memory Size: {self.function_version.config.memory_size} MB\n"
        )
        return InvocationResult(request_id=request_id, payload=result, is_error=is_error, logs=self.output.since(mark))

    def get_logs(self) -> str:
        return self.output.text()

    # Where things are: everything is on this host.

    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        return "127.0.0.1"

    def get_runtime_endpoint(self) -> str:
        return f"http://127.0.0.1:{config.GATEWAY_LISTEN[0].port}/_localstack_lambda/{self.id}"

    # A function version's preparation: its package unzipped, its bootstrap executable.

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        runtime = str(function_version.config.runtime or "")
        if not runtime.startswith("provided"):
            raise LambdaRuntimeException(
                f"the host executor runs provided.* functions (a bootstrap of their own), not {runtime or 'images'}"
            )
        function_version.config.code.prepare_for_execution()
        bootstrap = Path(function_version.config.code.get_unzipped_code_location()) / "bootstrap"
        if not bootstrap.is_file():
            raise LambdaRuntimeException(f"the deployment package of {function_version.qualified_arn} has no bootstrap")
        bootstrap.chmod(0o755)

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass

    @classmethod
    def validate_environment(cls) -> bool:
        return True
