"""Coordinator: starts N workers, serves the shared ledger file to them over the bus, reports the outcome."""
import json
import time

from aegis_agent import task, result, log, bus, delegate, ChildFailed

WORKERS = int(task.get("workers", 4))
INCREMENTS = int(task.get("increments", 5))
LEDGER = "/workspace/ledger.json"

ledger = {"count": 0, "fence": 0, "writes": []}


def save():
    with open(LEDGER, "w") as f:
        json.dump(ledger, f)


def serve(msg):
    if msg.subject == "ledger.get":
        msg.respond({"count": ledger["count"]})
        return
    put = msg.data
    if put["token"] < ledger["fence"]:  # a holder whose lease ran out: its write would undo a newer one
        msg.respond({"ok": False, "reason": "stale fencing token %d < %d" % (put["token"], ledger["fence"])})
        return
    ledger["fence"] = put["token"]
    ledger["count"] = put["count"]
    ledger["writes"].append({"worker": put["worker"], "count": put["count"], "token": put["token"]})
    save()
    msg.respond({"ok": True})


save()
with bus.subscribe("ledger.*", buffer=1024) as sub:  # before any worker starts, so no request goes unheard
    children = [delegate("swarm-worker", {"worker": i, "increments": INCREMENTS}, wait=False) for i in range(WORKERS)]
    log("started %d workers: %s" % (WORKERS, ", ".join(c.id[:8] for c in children)))
    pending, last_check = list(children), 0.0
    while pending:
        msg = sub.next(timeout=0.2)
        if msg is not None and hasattr(msg, "respond"):
            serve(msg)
        if time.time() - last_check > 0.5:
            last_check = time.time()
            pending = [c for c in pending if c.refresh().state not in ("succeeded", "failed", "cancelled")]

outcomes = []
for c in children:
    try:
        c.result(timeout=0)
        outcomes.append("succeeded")
    except ChildFailed as e:
        outcomes.append("%s (%s)" % (e.task["state"], e.code))
with open(LEDGER) as f:
    final = json.load(f)
log("ledger: count %d after %d writes" % (final["count"], len(final["writes"])))
result({"count": final["count"], "expected": WORKERS * INCREMENTS, "correct": final["count"] == WORKERS * INCREMENTS,
        "writes": len(final["writes"]), "tokens_increase": all(a["token"] < b["token"] for a, b in zip(final["writes"], final["writes"][1:])),
        "workers": outcomes})
