"""Worker: read the ledger's count, add one, write it back, holding the lock for the whole read-modify-write."""
from aegis_agent import task, result, log, lock, bus

me = task.get("worker", 0)
for _ in range(int(task.get("increments", 5))):
    with lock("ledger", timeout=60) as token:  # waits its turn; the token fences the write
        count = bus.request("ledger.get", {}, timeout=10)["count"]
        answer = bus.request("ledger.put", {"count": count + 1, "token": token, "worker": me}, timeout=10)
        if not answer["ok"]:
            raise SystemExit("ledger refused the write: " + answer["reason"])
log("worker %d: done" % me)
result({"worker": me, "increments": task.get("increments", 5)})
