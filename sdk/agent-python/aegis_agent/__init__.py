"""aegis_agent: the agent side of the AEGIS agent contract, standard library only.

    from aegis_agent import task, result, log

    log("starting")                 # a line in the task's logs, through the agent API
    result({"answer": 42})          # the task's result, as JSON on stdout

    with lock("user_database") as token: ...          # coordination: see _locks.py, _bus.py, _tasks.py
    bus.publish("orders.created", {"id": 7})
    summary = delegate("summarizer", {"text": "..."})
    hits = memory.query("how did we fix this last time?")["hits"]   # Cortex: see _memory.py
    answer = llm.chat([{"role": "user", "content": "..."}], model="gpt-4o-mini")   # see _llm.py

`task` is the task's input (parsed JSON), read from /run/aegis/task.json or, failing that, from stdin.
Every other platform call goes through `call(name, body)` over the agent API socket
(/run/aegis/agent.sock), authenticated with $AEGIS_TOKEN; calls the platform does not offer yet
raise AegisError with code "not_available".
"""
import http.client
import json
import os
import socket
import sys

__all__ = ["task", "result", "log", "call", "whoami", "AegisError", "memory", "tools", "llm", "locks", "lock", "Lease",
           "bus", "Message", "Overflow", "tasks", "delegate", "Child", "ChildFailed"]

SOCKET = os.environ.get("AEGIS_SOCKET", "/run/aegis/agent.sock")
TASK_FILE = "/run/aegis/task.json"


class AegisError(Exception):
    """An agent-API call failed; `code` is the platform's error code (e.g. not_available, unauthorized)."""

    def __init__(self, status, code, message):
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def _request(method, path, body=None, timeout=30):
    conn = _UnixConnection(SOCKET, timeout=timeout)
    try:
        headers = {"Authorization": "Bearer " + os.environ.get("AEGIS_TOKEN", "")}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        payload = json.loads(raw) if raw else {}
        if resp.status >= 400:
            err = payload.get("error", {}) if isinstance(payload, dict) else {}
            raise AegisError(resp.status, err.get("code", "http_%d" % resp.status), err.get("message", raw.decode(errors="replace")))
        return payload
    finally:
        conn.close()


def call(name, body=None, timeout=30):
    """Calls agent-API method `name` (e.g. "memory.query") with a JSON body; returns the JSON answer.
    `timeout` (seconds) bounds the whole call, waiting included."""
    return _request("POST", "/v1/" + name.replace(".", "/"), body or {}, timeout)


def whoami():
    return _request("GET", "/v1/whoami")


def log(message, level="info"):
    """Adds a line to the task's logs. Falls back to stderr when no agent API is reachable."""
    try:
        call("log", {"message": str(message), "level": level})
    except (OSError, AegisError):
        print(str(message), file=sys.stderr, flush=True)


def result(value):
    """Writes the task's result: one JSON document on stdout."""
    sys.stdout.write(json.dumps(value))
    sys.stdout.write("\n")
    sys.stdout.flush()


def _load_task():
    try:
        with open(TASK_FILE, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        data = sys.stdin.read()
        return json.loads(data) if data.strip() else {}


from aegis_agent._locks import Lease, lock, locks  # noqa: E402  (they need call() above)
from aegis_agent._bus import Message, Overflow, bus  # noqa: E402
from aegis_agent._tasks import Child, ChildFailed, delegate, tasks  # noqa: E402
from aegis_agent._tools import tools  # noqa: E402
from aegis_agent._memory import memory  # noqa: E402
from aegis_agent._llm import llm  # noqa: E402
task = _load_task()
