"""The host executor against fake bootstraps that speak the Runtime API: an echo, one that
runs past its timeout, one that dies, one that fails to start. Needs localstack-core (its
executor interface) and nothing else: run with `python -m unittest discover -s tests`."""

import json
import os
import stat
import sys
import tempfile
import textwrap
import threading
import time
import unittest
from pathlib import Path
from types import SimpleNamespace

from lambda_host_executor.executor import HostRuntimeExecutor, OutputLog
from lambda_host_executor.runtime_api import Invocation, RuntimeApi, deadline_ms
from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException

# A runtime loop in Python: next, then answer, as lambda_runtime does in Rust.
RUNTIME = """#!{python}
import json, os, sys, time, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
{init}
while True:
    with urllib.request.urlopen(api + "/invocation/next") as next_:
        request_id = next_.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(next_.read())
    print("handling", request_id, flush=True)
{handle}
    body = json.dumps(answer).encode()
    urllib.request.urlopen(urllib.request.Request(api + f"/invocation/{{request_id}}/response", data=body, method="POST"))
"""


def bootstrap(folder: Path, handle: str, init: str = "") -> None:
    script = RUNTIME.format(python=sys.executable, init=init, handle=textwrap.indent(textwrap.dedent(handle), "    "))
    path = folder / "bootstrap"
    path.write_text(script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def function(folder: Path, timeout: int = 3) -> SimpleNamespace:
    code = SimpleNamespace(get_unzipped_code_location=lambda: str(folder), prepare_for_execution=lambda: None)
    config = SimpleNamespace(code=code, timeout=timeout, memory_size=128, runtime="provided.al2023")
    return SimpleNamespace(config=config, qualified_arn="arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST",
                           id=SimpleNamespace(qualifier="$LATEST"))


def invoke(executor: HostRuntimeExecutor, request_id: str, event: dict):
    return executor.invoke({"invoke-id": request_id, "invoked-function-arn": "arn:f", "payload": json.dumps(event), "trace-id": "t"})


class HostExecutorTest(unittest.TestCase):
    def setUp(self) -> None:
        self.folder = Path(tempfile.mkdtemp())
        self.executors: list[HostRuntimeExecutor] = []

    def tearDown(self) -> None:
        for executor in self.executors:
            executor.stop()

    def start(self, timeout: int = 3, env: dict | None = None) -> HostRuntimeExecutor:
        executor = HostRuntimeExecutor("env-1", function(self.folder, timeout))
        self.executors.append(executor)
        executor.start(env or {"GREETING": "hello"})
        return executor

    def test_an_invocation_gets_the_runtimes_answer_its_environment_and_its_log_lines(self) -> None:
        bootstrap(self.folder, 'answer = {"echo": event, "greeting": os.environ["GREETING"], "root": os.environ["LAMBDA_TASK_ROOT"]}')
        executor = self.start()
        result = invoke(executor, "req-1", {"path": "/health"})
        self.assertFalse(result.is_error)
        answer = json.loads(result.payload)
        self.assertEqual(answer, {"echo": {"path": "/health"}, "greeting": "hello", "root": str(self.folder)})
        lines = result.logs.splitlines()
        self.assertEqual(lines[0], "START RequestId: req-1 Version: $LATEST")
        self.assertIn("handling req-1", lines)
        self.assertTrue(lines[-2] == "END RequestId: req-1" and lines[-1].startswith("REPORT RequestId: req-1\tDuration: "))
        second = invoke(executor, "req-2", {"n": 2})
        self.assertEqual(json.loads(second.payload)["echo"], {"n": 2})
        self.assertNotIn("req-1", second.logs, "each invocation has its own lines")

    def test_every_line_a_runtime_writes_before_its_answer_is_the_invocations(self) -> None:
        bootstrap(self.folder, 'for n in range(event["lines"]):\n    print("line", n)\nsys.stdout.flush()\nanswer = {}')
        executor = self.start()
        append = executor.output.append

        def slow_append(line: str) -> None:
            # The output followed slower than the answer comes, as on a busy machine.
            time.sleep(0.002)
            append(line)

        executor.output.append = slow_append
        for request in range(3):
            logs = invoke(executor, f"burst-{request}", {"lines": 50}).logs.splitlines()
            self.assertEqual(logs[1:-2], [f"handling burst-{request}"] + [f"line {n}" for n in range(50)])

    def test_the_lines_a_runtime_writes_just_before_its_timeout_are_the_timed_out_invocations(self) -> None:
        bootstrap(self.folder, 'for n in range(30):\n    print("line", n)\nsys.stdout.flush()\ntime.sleep(30)\nanswer = {}')
        executor = self.start(timeout=1)
        append = executor.output.append

        def slow_append(line: str) -> None:
            # 30 lines take 1.5 s: still being taken in when the timeout comes.
            time.sleep(0.05)
            append(line)

        executor.output.append = slow_append
        logs = invoke(executor, "late", {}).logs.splitlines()
        self.assertEqual(logs[1:-3], ["handling late"] + [f"line {n}" for n in range(30)])
        self.assertIn("Task timed out after 1.00 seconds", logs[-3])

    def test_past_its_timeout_an_invocation_ends_as_a_timeout_and_the_environment_starts_again(self) -> None:
        bootstrap(self.folder, 'time.sleep(event.get("sleep", 0))\nanswer = {"slept": event.get("sleep", 0)}')
        executor = self.start(timeout=1)
        first_process = executor.process
        result = invoke(executor, "slow", {"sleep": 5})
        self.assertTrue(result.is_error)
        error = json.loads(result.payload)
        self.assertEqual(error["errorType"], "Sandbox.Timedout")
        self.assertIn("Task timed out after 1.00 seconds", error["errorMessage"])
        self.assertIsNotNone(first_process.poll(), "the timed-out runtime was stopped")
        self.assertEqual(json.loads(invoke(executor, "fast", {"sleep": 0}).payload), {"slept": 0})

    def test_a_runtime_that_dies_mid_invocation_fails_it_at_once(self) -> None:
        bootstrap(self.folder, 'os._exit(3)\nanswer = {}')
        executor = self.start(timeout=30)
        result = invoke(executor, "dies", {})
        self.assertTrue(result.is_error)
        self.assertEqual(json.loads(result.payload)["errorType"], "Runtime.ExitError")

    def test_a_runtime_that_fails_to_start_is_an_error_naming_the_cause(self) -> None:
        bootstrap(self.folder, "answer = {}", init="sys.exit(2)")
        with self.assertRaises(LambdaRuntimeException) as raised:
            self.start()
        self.assertIn("exit status 2", str(raised.exception))

    def test_stop_ends_the_runtime_process(self) -> None:
        bootstrap(self.folder, "answer = {}")
        executor = self.start()
        process = executor.process
        executor.stop()
        self.assertIsNotNone(process.poll())

    def test_prepare_version_refuses_a_runtime_without_its_own_bootstrap(self) -> None:
        version = function(self.folder)
        version.config.runtime = "python3.12"
        with self.assertRaises(LambdaRuntimeException):
            HostRuntimeExecutor.prepare_version(version)


class OutputLogTest(unittest.TestCase):
    def test_an_invocation_takes_its_own_lines_and_old_lines_are_let_go(self) -> None:
        log = OutputLog(keep=3)
        log.append("init\n")
        mark = log.mark()
        log.append("a\n")
        log.append("b\n")
        self.assertEqual(log.since(mark), "a\nb\n")
        for n in range(10):
            log.append(f"{n}\n")
        self.assertLessEqual(len(log.text().splitlines()), 6, "at most twice what it keeps")
        mark = log.mark()
        log.append("last\n")
        self.assertEqual(log.since(mark), "last\n", "marks still count every line")


class RuntimeApiTest(unittest.TestCase):
    def test_an_answer_for_no_running_invocation_is_refused(self) -> None:
        api = RuntimeApi()
        api.start()
        self.addCleanup(api.close)
        self.assertFalse(api.answer("nobody", b"{}", is_error=False))
        invocation = Invocation("r", b"{}", "arn", "t", deadline_ms(1))
        api.submit(invocation)
        taken = threading.Thread(target=api.next_invocation)
        taken.start()
        taken.join()
        self.assertTrue(api.answer("r", b'{"ok": true}', is_error=False))
        self.assertTrue(invocation.done.is_set() and invocation.result == b'{"ok": true}')


if __name__ == "__main__":
    unittest.main()
