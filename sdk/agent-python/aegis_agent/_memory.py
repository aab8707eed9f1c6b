"""Memory (Cortex): what this agent's earlier tasks left behind, searched by meaning.

    from aegis_agent import memory

    hits = memory.query("how did we fix the flaky upload test?", limit=3)["hits"]
    hits[0]["text"], hits[0]["similarity"], hits[0]["task"]
    memory.store("upload test: raise the client timeout to 30 s", tags=["ci"])

Needs `permissions: {memory: read}` (query) or `read-write` (query and store) in agent.yaml; without it the
call raises AegisError with code "policy_denied". AEGIS indexes every finished task's logs, tool outputs and
result on its own, so storing by hand is only for what the agent wants to remember on purpose.
"""
from aegis_agent import call


class _Memory:
    def query(self, text, limit=5, **options):
        """Memories most relevant to `text`, best first: {"hits": [...], "tokens": n, "model": "..."}.
        Options: kinds (["log", "tool_output", "result", "feedback", "note"]), tags, success (True/False),
        half_life ("7d"), budget (tokens to pack the hits into)."""
        return call("memory.query", dict(options, query=text, limit=limit))

    def store(self, text, kind="note", tags=()):
        """Stores `text` durably (kind note, tool_output or log); returns {"id": ...}. Storing the same text
        again returns the id it already has."""
        return call("memory.store", {"text": text, "kind": kind, "tags": list(tags)})


memory = _Memory()
