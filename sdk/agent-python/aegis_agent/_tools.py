"""Tool calls: every call is checked against the manifest's `permissions.tools` and audited by AEGIS.

    from aegis_agent import tools, AegisError

    page = tools.call("http.fetch", {"url": "https://api.example.com/items"})
    page["status"], page["body"]
    files = tools.call("fs.read_file", {"path": "/data/inbox/today.eml"})   # an MCP server registered as "fs"
    tools.list()                    # the tools this agent may call here, with their input schemas

A tool the manifest does not grant raises AegisError with code "policy_denied" and the reason; nothing left
AEGIS for it.
"""
from aegis_agent import call


class _Tools:
    def call(self, name, args=None, timeout=60):
        """Calls tool `name` (e.g. "http.fetch") with the arguments object `args`; returns its result."""
        if args is not None and not isinstance(args, dict):
            raise TypeError("tools.call: args must be a dict, got %s" % type(args).__name__)
        return call("tools.call", {"name": name, "arguments": args or {}}, timeout)["result"]

    def list(self):
        """The tools this agent may call (offered here and granted by its manifest): a list of dicts with
        "name" ("server.tool"), "description" and "input_schema" (the JSON Schema its arguments must match)."""
        return call("tools.list", {})["tools"]


tools = _Tools()
