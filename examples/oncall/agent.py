"""On-call helper. Input: {"incident": "...", "fix": "..." (optional)}.

Asks its memory what earlier runs learned about incidents like this one. When told a fix, it logs it: AEGIS
indexes every task's logs and result after the task ends, so a later run finds it without storing anything by hand.
"""
from aegis_agent import task, result, log, memory

incident = task.get("incident", "").strip()
if not incident:
    result({"error": "give an incident to look up"})
    raise SystemExit(0)

found = memory.query(incident, limit=3, budget=120, kinds=["log", "note"])["hits"]
log("memory: %d earlier notes on incidents like this one" % len(found))
fix = task.get("fix")
if fix:
    log("incident: %s -- fix that worked: %s" % (incident, fix))
if task.get("note"):
    memory.store(task["note"], tags=["oncall"])

def fix_in(text):
    """The line of a memory that says what fixed it, else the whole memory."""
    lines = [line for line in text.splitlines() if "fix that worked" in line]
    return lines[0] if lines else text


result({
    "incident": incident,
    "known_fix": fix_in(found[0]["text"]) if found else None,
    "from_task": found[0].get("task") if found else None,
    "memories_found": len(found),
})
