"""LLM calls through AEGIS's gateway, in OpenAI's shapes. The tenant's key never enters the sandbox: AEGIS adds it
on the way to the tenant's provider (OpenAI-compatible or Anthropic, whichever the tenant configured).

    from aegis_agent import llm, AegisError

    answer = llm.chat([{"role": "user", "content": "Summarize: ..."}], model="gpt-4o-mini")
    answer["choices"][0]["message"]["content"], answer["usage"]["total_tokens"]

    for chunk in llm.stream([{"role": "user", "content": "..."}], model="gpt-4o-mini"):
        print(chunk["choices"][0]["delta"].get("content", ""), end="")

    vectors = [d["embedding"] for d in llm.embeddings(["one", "two"], model="text-embedding-3-small")["data"]]

Extra keyword arguments (temperature, max_tokens, ...) go into the request as they are. Errors raise AegisError:
llm_model_denied (not in permissions.llm.models), llm_budget_exceeded (past max_tokens_per_task; a stream raises it
where it was cut), llm_not_configured (the tenant has no provider), llm_upstream_error, llm_timeout.
"""
import json
import os

from aegis_agent import AegisError, SOCKET, _UnixConnection, _request


class _Llm:
    def chat(self, messages, model, timeout=300, **options):
        """A chat completion: the OpenAI `chat.completion` object (choices, usage, ...)."""
        body = dict(options, model=model, messages=list(messages))
        body.pop("stream", None)
        return _request("POST", "/v1/chat/completions", body, timeout)

    def stream(self, messages, model, timeout=300, **options):
        """A streamed chat completion: yields the `chat.completion.chunk` objects as they arrive."""
        body = dict(options, model=model, messages=list(messages), stream=True)
        conn = _UnixConnection(SOCKET, timeout=timeout)
        try:
            conn.request("POST", "/v1/chat/completions", body=json.dumps(body).encode(), headers={
                "Authorization": "Bearer " + os.environ.get("AEGIS_TOKEN", ""), "Content-Type": "application/json",
                "Accept": "text/event-stream"})
            resp = conn.getresponse()
            if resp.status >= 400:
                raw = resp.read()
                try:
                    err = json.loads(raw).get("error", {})
                except ValueError:
                    err = {}
                raise AegisError(resp.status, err.get("code", "http_%d" % resp.status), err.get("message", raw.decode(errors="replace")))
            for line in resp:
                line = line.strip()
                if not line.startswith(b"data:"):
                    continue
                data = line[5:].strip()
                if data == b"[DONE]":
                    return
                event = json.loads(data)
                if "error" in event:
                    err = event["error"]
                    raise AegisError(resp.status, err.get("code", "llm_upstream_error"), err.get("message", ""))
                yield event
            raise AegisError(resp.status, "llm_upstream_error", "the stream ended without [DONE]")
        finally:
            conn.close()

    def embeddings(self, input, model, timeout=120, **options):
        """Embeddings of a string or a list of strings: the OpenAI `list` object (data[i].embedding, usage)."""
        return _request("POST", "/v1/embeddings", dict(options, model=model, input=input), timeout)


llm = _Llm()
