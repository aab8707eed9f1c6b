"""Works on files in /workspace: stores documents, builds an inverted index on disk, answers a query from it.

Input:  {"documents": {"name.txt": "text", ...}, "query": "words"}
Output: {"files": [{"name", "bytes", "lines", "sha256"}], "index_terms": N, "matches": [{"file", "score"}]}
"""
import hashlib
import json
import os
import re
from collections import defaultdict

from aegis_agent import task, result, log

ROOT = "/workspace/docs"
INDEX = "/workspace/index.json"


def safe_name(name):
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", name) or name.startswith("."):
        raise SystemExit(f"bad document name {name!r}: use letters, digits, dot, dash, underscore")
    return name


docs = task.get("documents", {})
os.makedirs(ROOT, exist_ok=True)
for name, text in docs.items():
    with open(os.path.join(ROOT, safe_name(name)), "w", encoding="utf-8") as f:
        f.write(text)
log(f"wrote {len(docs)} documents to {ROOT}")

index, files = defaultdict(dict), []
for name in sorted(os.listdir(ROOT)):
    with open(os.path.join(ROOT, name), "rb") as f:
        raw = f.read()
    files.append({"name": name, "bytes": len(raw), "lines": raw.count(b"\n") + (1 if raw and not raw.endswith(b"\n") else 0),
                  "sha256": hashlib.sha256(raw).hexdigest()})
    for word in re.findall(r"[a-z0-9]+", raw.decode("utf-8", "replace").lower()):
        index[word][name] = index[word].get(name, 0) + 1
with open(INDEX, "w", encoding="utf-8") as f:
    json.dump(index, f)
log(f"index written to {INDEX}: {len(index)} terms, {os.path.getsize(INDEX)} bytes")

# Answer from the file on disk, not from memory, to prove the round trip through /workspace.
with open(INDEX, encoding="utf-8") as f:
    on_disk = json.load(f)
scores = defaultdict(int)
for word in re.findall(r"[a-z0-9]+", task.get("query", "").lower()):
    for name, count in on_disk.get(word, {}).items():
        scores[name] += count
matches = [{"file": n, "score": s} for n, s in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))]
result({"files": files, "index_terms": len(on_disk), "matches": matches})
