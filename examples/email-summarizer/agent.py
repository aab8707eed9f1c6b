"""Summarizes the day's email: the seed's data-flow example, end to end.

1. queries Cortex for this agent's past summaries (similar past tasks),
2. lists and reads the day's mail through the "mail" MCP tool server (allowed by permissions.tools),
3. asks the LLM for a summary through AEGIS's gateway (the tenant's own key, added outside this sandbox),
4. stores the session in Cortex and returns {summary, ...} with its logs.

Input (all optional): {"day": "2026-11-26" (default: today, UTC), "folder": "/mail", "model": "gpt-4o-mini"}
"""
import datetime
import email
import email.policy
import email.utils

from aegis_agent import llm, log, memory, result, task, tools

day = task.get("day") or datetime.datetime.now(datetime.timezone.utc).date().isoformat()
folder = task.get("folder", "/mail").rstrip("/")
model = task.get("model", "gpt-4o-mini")


def text(tool_result):
    """The text parts of an MCP tool result."""
    return "".join(c.get("text", "") for c in tool_result.get("content", []) if c.get("type") == "text")


past = memory.query("summary of the day's email", limit=3, tags=["email-summary"])["hits"]
log("cortex: %d past summaries%s" % (len(past), "; the closest is from task %s" % past[0].get("task") if past else ""))

listing = text(tools.call("mail.list_directory", {"path": folder}))
files = sorted(line[len("[FILE] "):] for line in listing.splitlines() if line.startswith("[FILE] ") and line.endswith(".eml"))
log("mail: %d messages in %s" % (len(files), folder))

mails = []
for name in files:
    msg = email.message_from_string(text(tools.call("mail.read_text_file", {"path": folder + "/" + name})),
                                    policy=email.policy.default)
    sent = email.utils.parsedate_to_datetime(msg["Date"]).astimezone(datetime.timezone.utc)
    if sent.date().isoformat() != day:
        continue
    body = msg.get_body(preferencelist=("plain",))
    mails.append({"from": str(msg["From"]), "subject": str(msg["Subject"]), "body": body.get_content().strip() if body else ""})
log("mail: %d of them from %s: %s" % (len(mails), day, "; ".join(m["subject"] for m in mails)))

if not mails:
    summary, tokens = "No mail on %s." % day, 0
else:
    prompt = "Summarize this email for its reader in three sentences, most urgent first.\n\n" + "\n\n".join(
        "%s (from %s): %s" % (m["subject"], m["from"], m["body"]) for m in mails)
    answer = llm.chat([{"role": "system", "content": "You summarize a person's email briefly and factually."},
                       {"role": "user", "content": prompt}], model=model, max_tokens=400)
    summary, tokens = answer["choices"][0]["message"]["content"].strip(), answer["usage"]["total_tokens"]
    log("llm: %s answered with %d tokens in all" % (model, tokens))

stored = memory.store("Email summary for %s (%d messages: %s): %s" % (
    day, len(mails), "; ".join(m["subject"] for m in mails), summary), tags=["email-summary"])
log("cortex: session stored as memory %s" % stored["id"])
result({"summary": summary, "day": day, "subjects": [m["subject"] for m in mails], "llm_tokens": tokens,
        "past_summaries": [h.get("task") for h in past]})
