"""Extractive summarization: score sentences by the frequency of their content words, keep the best in order.

Input:  {"text": "...", "sentences": 3}
Output: {"summary": "...", "picked": [indexes], "sentence_count": N, "top_words": [...]}
"""
import re
from collections import Counter

from aegis_agent import task, result, log

STOP = set("""a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having he her
here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of
off on once only or other our ours ourselves out over own same she should so some such than that the their theirs
them themselves then there these they this those through to too under until up very was we were what when where
which while who whom why will with would you your yours yourself yourselves also may might must shall one two""".split())


def sentences(text):
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])", text.strip())
    return [p.strip() for p in parts if p.strip()]


def words(s):
    return [w for w in re.findall(r"[a-z][a-z'-]+", s.lower()) if w not in STOP and len(w) > 2]


def summarize(text, n):
    sents = sentences(text)
    freq = Counter(w for s in sents for w in words(s))
    if not freq:
        return sents[:n], list(range(min(n, len(sents)))), []
    top = max(freq.values())
    scores = []
    for i, s in enumerate(sents):
        ws = words(s)
        # Normalized frequency, averaged with a damping on length so long sentences don't always win.
        score = sum(freq[w] / top for w in ws) / (len(ws) ** 0.5 if ws else 1)
        scores.append((score, i))
    picked = sorted(i for _, i in sorted(scores, reverse=True)[:n])
    return [sents[i] for i in picked], picked, [w for w, _ in freq.most_common(5)]


text = task.get("text", "")
n = int(task.get("sentences", 3))
if not isinstance(text, str) or not text.strip():
    raise SystemExit("input needs a non-empty \"text\" string")
log(f"summarizing {len(text)} characters into {n} sentences")
chosen, picked, top_words = summarize(text, n)
log(f"picked sentences {picked}; top words {top_words}")
result({"summary": " ".join(chosen), "picked": picked, "sentence_count": len(sentences(text)), "top_words": top_words})
