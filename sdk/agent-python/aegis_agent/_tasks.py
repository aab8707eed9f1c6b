"""Child tasks: start tasks of other agents of your tenant (permissions.delegate) and get their results.

    from aegis_agent import tasks

    summary = tasks.delegate("summarizer", {"text": t})           # waits; the child's result, or ChildFailed
    child = tasks.delegate("worker", {"n": 1}, wait=False)       # starts it and returns a Child at once
    value = child.result(timeout=60)                             # waits for it later

A child is cancelled when this task fails or is cancelled (unless cancel_with_parent=False). Errors raise
AegisError: "policy_denied" (not in permissions.delegate), "limit_exceeded" (the operator's depth or fan-out
limit), "not_found" (no such agent); a child that did not succeed raises ChildFailed.
"""
import aegis_agent as _api


class ChildFailed(_api.AegisError):
    """A child task ended without succeeding; `task` is the child as the platform reports it."""

    def __init__(self, task):
        err = task.get("error", {})
        super().__init__(0, err.get("code", task.get("state", "failed")),
                         "child task %s (%s) %s: %s" % (task["id"], task["agent"], task["state"], err.get("message", "")))
        self.task = task


class Child:
    def __init__(self, task):
        self.task = task

    @property
    def id(self):
        return self.task["id"]

    @property
    def state(self):
        return self.task["state"]

    def refresh(self, timeout=0):
        """Fetches the child again, waiting up to `timeout` seconds for it to end."""
        self.task = _api.call("tasks.get", {"task_id": self.id, "timeout_ms": int(timeout * 1000)}, timeout=timeout + 30)
        return self

    def result(self, timeout=600):
        """Waits up to `timeout` seconds; the child's result, or ChildFailed. AegisError "timeout" if still running."""
        if self.state not in ("succeeded", "failed", "cancelled"):
            self.refresh(timeout)
        return _outcome(self.task, timeout)

    def __repr__(self):
        return "Child(%s, %s, %s)" % (self.id, self.task["agent"], self.state)


def _outcome(task, timeout):
    if task["state"] == "succeeded":
        return task.get("result")
    if task["state"] in ("failed", "cancelled"):
        raise ChildFailed(task)
    raise _api.AegisError(0, "timeout", "child task %s still %s after %s s" % (task["id"], task["state"], timeout))


class _Tasks:
    def delegate(self, agent, input=None, wait=True, timeout=600, cancel_with_parent=True):
        """Starts a task of `agent` with `input`. wait=True: returns its result (waiting up to `timeout` seconds);
        wait=False: returns a Child at once."""
        body = {"agent": agent, "input": {} if input is None else input, "wait": bool(wait),
                "timeout_ms": int(timeout * 1000), "cancel_with_parent": bool(cancel_with_parent)}
        task = _api.call("tasks.delegate", body, timeout=(timeout if wait else 0) + 30)
        return _outcome(task, timeout) if wait else Child(task)

    def get(self, task_id, timeout=0):
        """One of this task's children (a dict), waiting up to `timeout` seconds for it to end."""
        return _api.call("tasks.get", {"task_id": task_id, "timeout_ms": int(timeout * 1000)}, timeout=timeout + 30)

    def children(self):
        """This task's children, oldest first (dicts)."""
        return _api.call("tasks.children", {})["children"]


tasks = _Tasks()
delegate = tasks.delegate
