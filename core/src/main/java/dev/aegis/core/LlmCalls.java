package dev.aegis.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one path of every LLM call an agent makes (bring your own key). Before anything leaves AEGIS: the model is
 * checked against {@code permissions.llm.models}, the task's token budget ({@code max_tokens_per_task}) against what
 * it used, and the tenant's provider and key are looked up. Each call is an {@code llm.call} audit record (model,
 * decision, reason) written before it goes out, and an allowed one ends with an {@code llm.result} record (outcome,
 * tokens, latency). Prompts and answers are recorded only when the operator enables it ({@link Options#auditContent}).
 * Tokens are metered per tenant, agent and task through {@link LlmStore}.
 *
 * <p>Budgets: a call is refused when the task's tokens so far plus the prompt (estimated) exceed the budget. A
 * non-streaming call gets its {@code max_tokens} (or {@code max_completion_tokens}) lowered to what is left, since
 * its answer cannot be cut (one that set none gets it when at most 4,096 tokens are left; above that the provider's
 * own limit applies and a longer answer is metered, so the next call is refused); a stream is counted as it flows
 * and ended with {@code llm_budget_exceeded} at the chunk that would pass the budget. Concurrent calls of one task share its count, so together they may pass the budget
 * by at most what was in flight when it ran out.
 *
 * <p>The provider's key is read from the secrets store at each call and handed to the {@link LlmUpstream} only: it
 * never enters a sandbox, an audit record, a log line or an error.
 */
public final class LlmCalls {
    /**
     * @param auditContent    put prompts and answers (each cut at 8 KiB) into the audit records; off by default
     * @param maxTaskLifetime no task lives longer (the operator's timeout ceiling): a task's running token count is
     *                        dropped that long after its first call
     */
    public record Options(boolean auditContent, Duration maxTaskLifetime) {
        public static final Options DEFAULT = new Options(false, Duration.ofMinutes(16));
    }

    private static final int CONTENT_CAP = 8 * 1024;
    private static final int MAX_MODEL = 256;
    /** The largest {@code max_tokens} AEGIS adds to a request that had none: every current model accepts it. */
    static final long UNASKED_CAP = 4096;

    private final LlmUpstream upstream;
    private final LlmStore store;
    private final SecretStore secrets;
    private final AuditLog audit;
    private final Clock clock;
    private final Options options;
    /**
     * Each tenant's provider as last read or set here: a call reads no table for it. Set and delete go through this
     * class, so the cache is exact on one node (a cluster would need a change notice between nodes).
     */
    private final Map<String, Optional<LlmProvider>> providers = new ConcurrentHashMap<>();
    /** Tokens each live task used so far, by tenant and task. */
    private final Map<String, Spend> spends = new ConcurrentHashMap<>();
    /** Calls metered by this node so far: a reader that cached a task's tokens knows they may have changed. */
    private final AtomicLong meteredCalls = new AtomicLong();

    public LlmCalls(LlmUpstream upstream, LlmStore store, SecretStore secrets, AuditLog audit, Clock clock, Options options) {
        this.upstream = upstream;
        this.store = store;
        this.secrets = secrets;
        this.audit = audit;
        this.clock = clock;
        this.options = options;
    }

    // ---- the tenant's provider ----

    public Optional<LlmProvider> provider(String tenant) {
        return providers.computeIfAbsent(tenant, store::provider);
    }

    /**
     * Sets the tenant's provider; returns whether it was created.
     *
     * @throws AegisException {@code invalid_request} naming the field; {@code secret_missing} when the key's secret
     *                        does not exist (set it first, so no call fails later for want of it)
     */
    public boolean setProvider(String tenant, String kind, String baseUrl, String keySecret) {
        LlmProvider p = LlmProvider.of(kind, baseUrl, keySecret, clock.instant());
        if (secrets.list(tenant).stream().noneMatch(i -> i.name().equals(p.keySecret())))
            throw new AegisException("secret_missing", "key_secret: secret " + p.keySecret() + " does not exist in tenant " + tenant
                    + "; set it first with `aegis secrets set " + p.keySecret() + "` (PUT /v1/secrets/" + p.keySecret() + ")", "key_secret");
        boolean existed = store.provider(tenant).isPresent();
        audit.append(AuditEvent.of(tenant, Orchestrator.actor(), "llm.provider.set", "llm:provider", Map.of(
                "kind", p.kind().wire(), "endpoint", p.endpoint(), "key_secret", p.keySecret(), "created", Boolean.toString(!existed))));
        try {
            store.putProvider(tenant, p);
        } finally {
            providers.remove(tenant);
        }
        return !existed;
    }

    public void deleteProvider(String tenant) {
        if (store.provider(tenant).isEmpty()) throw AegisException.notFound("tenant " + tenant + " has no LLM provider");
        audit.append(AuditEvent.of(tenant, Orchestrator.actor(), "llm.provider.delete", "llm:provider", Map.of()));
        try {
            store.deleteProvider(tenant);
        } finally {
            providers.remove(tenant);
        }
    }

    /** Per agent, the tenant's LLM calls and tokens in {@code [from, to)}. */
    public List<LlmStore.Tokens> tokens(String tenant, Instant from, Instant to) {
        return store.tokens(tenant, from, to);
    }

    /** How many calls this node has metered; it changes after (never before) a metered call is readable. */
    public long meteredCalls() {
        return meteredCalls.get();
    }

    public LlmStore.Tokens taskTokens(String tenant, String taskId) {
        return store.taskTokens(tenant, taskId);
    }

    // ---- calls from agents ----

    /** {@code chat.completions} without streaming; {@code request} is the agent's OpenAI-shaped body. */
    public ObjectNode chat(Session s, ObjectNode request) {
        Call c = open(s, request, "chat");
        long left = c.budget - c.spend.used.get() - c.prompt;
        ObjectNode capped = request.deepCopy();
        String cap = capped.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        boolean asked = capped.path(cap).canConvertToLong();
        // Lowered when the agent asked for more than is left; added when it asked for nothing and little is left. A
        // large cap is not added: models refuse a max_tokens above their own output limit (4,096 is under them all).
        if (asked ? capped.path(cap).asLong() > left : left <= UNASKED_CAP) capped.put(cap, left);
        try {
            ObjectNode answer = upstream.chat(c.provider, c.key, capped);
            JsonNode usage = answer.path("usage");
            long prompt = usage.path("prompt_tokens").asLong(c.prompt);
            long completion = usage.path("completion_tokens").asLong(tokens(text(answer.path("choices").path(0).path("message"))));
            c.done(prompt, completion, "ok", null, content(answer.path("choices").path(0).path("message").path("content").asText("")));
            return answer;
        } catch (RuntimeException e) {
            c.done(0, 0, "error", e, "");
            throw e;
        }
    }

    /**
     * {@code chat.completions} with streaming: each chunk goes to {@code out} as it arrives; the task's budget is
     * checked at each one. Errors before the first chunk are thrown as they are; after it, too, and the caller ends the
     * stream it started with them.
     */
    public void stream(Session s, ObjectNode request, LlmUpstream.Chunks out) {
        Call c = open(s, request, "stream");
        ObjectNode forwarded = request.deepCopy();
        boolean wantsUsage = request.path("stream_options").path("include_usage").asBoolean(false);
        forwarded.putObject("stream_options").put("include_usage", true);
        long[] chars = {0};
        long[] reported = {-1, -1};
        StringBuilder answer = new StringBuilder();
        try {
            upstream.stream(c.provider, c.key, forwarded, chunk -> {
                JsonNode usage = chunk.path("usage");
                if (usage.isObject()) {
                    reported[0] = usage.path("prompt_tokens").asLong(-1);
                    reported[1] = usage.path("completion_tokens").asLong(-1);
                }
                String delta = text(chunk.path("choices").path(0).path("delta"));
                if (!delta.isEmpty()) {
                    long completion = tokensOfChars(chars[0] + delta.length());
                    long used = c.spend.used.get();
                    if (used + c.prompt + completion > c.budget)
                        throw new AegisException("llm_budget_exceeded", "token budget exhausted mid-stream: this task used " + used
                                + " tokens before this call, whose prompt (about " + c.prompt + ") and answer so far (about "
                                + completion + ") would pass permissions.llm.max_tokens_per_task " + c.budget);
                    chars[0] += delta.length();
                    if (options.auditContent && answer.length() < CONTENT_CAP) answer.append(delta);
                }
                if (usage.isObject() && !wantsUsage && chunk.path("choices").isEmpty()) return; // asked for by AEGIS, not the agent
                if (usage.isObject() && !wantsUsage) chunk.remove("usage");
                out.chunk(chunk);
            });
            c.done(reported[0] >= 0 ? reported[0] : c.prompt, reported[1] >= 0 ? reported[1] : tokensOfChars(chars[0]), "ok", null,
                    answer.toString());
        } catch (RuntimeException e) {
            // What was generated before the end still counts: the provider bills it.
            c.done(c.prompt, tokensOfChars(chars[0]), "error", e, answer.toString());
            throw e;
        }
    }

    /** {@code embeddings}: the input counts as prompt tokens against the task's budget. */
    public ObjectNode embeddings(Session s, ObjectNode request) {
        Call c = open(s, request, "embeddings");
        try {
            ObjectNode answer = upstream.embeddings(c.provider, c.key, request);
            c.done(answer.path("usage").path("prompt_tokens").asLong(c.prompt), 0, "ok", null, "");
            return answer;
        } catch (RuntimeException e) {
            c.done(0, 0, "error", e, "");
            throw e;
        }
    }

    /** Checks, looks up the provider and its key, and writes the {@code llm.call} record; throws when refused. */
    private Call open(Session s, ObjectNode request, String kind) {
        long t0 = System.nanoTime();
        String model = model(request);
        long prompt = kind.equals("embeddings") ? inputTokens(request) : promptTokens(messages(request));
        if (s.taskId().isEmpty()) throw AegisException.denied("LLM calls need a task; this instance has none yet");
        Spend spend = spend(s);
        long budget = s.policy().manifest().permissions().llm().maxTokensPerTask();
        Map<String, String> details = new LinkedHashMap<>();
        details.put("call", kind);
        details.put("prompt_tokens_estimate", Long.toString(prompt));
        details.put("tokens_used_before", Long.toString(spend.used.get()));
        details.put("max_tokens_per_task", Long.toString(budget));
        if (options.auditContent) details.put("prompt", content(kind.equals("embeddings") ? request.path("input").toString()
                : request.path("messages").toString()));
        String code = "llm_model_denied";
        Decision d = s.policy().llm(model);
        if (d.allowed()) {
            code = "llm_budget_exceeded";
            d = s.policy().llmTokens(spend.used.get(), prompt + (kind.equals("embeddings") ? 0 : 1));
        }
        Optional<LlmProvider> provider = Optional.empty();
        Optional<String> key = Optional.empty();
        if (d.allowed()) {
            code = "llm_not_configured";
            provider = provider(s.tenant());
            if (provider.isEmpty())
                d = Decision.deny("tenant " + s.tenant() + " has no LLM provider: an admin sets one with `aegis llm provider set` "
                        + "(PUT /v1/llm/provider)");
            else if ((key = Optional.ofNullable(secrets.reveal(s.tenant(), List.of(provider.get().keySecret())).get(provider.get().keySecret()))).isEmpty())
                d = Decision.deny("the LLM provider's key secret " + provider.get().keySecret() + " does not exist in tenant "
                        + s.tenant() + "; set it with `aegis secrets set " + provider.get().keySecret() + "`");
            else if (kind.equals("embeddings") && provider.get().kind() == LlmProvider.Kind.ANTHROPIC)
                d = Decision.deny("the tenant's LLM provider (anthropic) has no embeddings API; configure an openai-compatible provider");
        }
        provider.ifPresent(p -> {
            details.put("provider", p.kind().wire());
            details.put("endpoint", p.endpoint());
        });
        details.put("duration_ms", millis(t0));
        audit.append(event(s, "llm.call", model, d).withDetails(details));
        if (d instanceof Decision.Deny(String reason)) throw new AegisException(code, reason);
        return new Call(s, model, provider.get(), key.get(), prompt, budget, spend, System.nanoTime());
    }

    /** One allowed call in flight: what {@link #done} needs to meter and audit its end. */
    private final class Call {
        final Session s;
        final String model;
        final LlmProvider provider;
        final String key;
        final long prompt;
        final long budget;
        final Spend spend;
        final long t0;

        Call(Session s, String model, LlmProvider provider, String key, long prompt, long budget, Spend spend, long t0) {
            this.s = s;
            this.model = model;
            this.provider = provider;
            this.key = key;
            this.prompt = prompt;
            this.budget = budget;
            this.spend = spend;
            this.t0 = t0;
        }

        void done(long promptTokens, long completionTokens, String outcome, RuntimeException error, String answer) {
            spend.used.addAndGet(promptTokens + completionTokens);
            Map<String, String> details = new LinkedHashMap<>();
            details.put("outcome", outcome);
            details.put("prompt_tokens", Long.toString(promptTokens));
            details.put("completion_tokens", Long.toString(completionTokens));
            details.put("latency_ms", millis(t0));
            if (error != null) details.put("error", error instanceof AegisException a ? a.code() : "internal_error");
            if (options.auditContent && !answer.isEmpty()) details.put("response", content(answer));
            // Both writes are durable before the agent has its answer; they go to different files, so their fsyncs overlap.
            java.util.concurrent.CompletableFuture<Void> metered = promptTokens + completionTokens == 0
                    ? java.util.concurrent.CompletableFuture.completedFuture(null)
                    : java.util.concurrent.CompletableFuture.runAsync(() -> {
                        store.meter(new LlmStore.Metered(s.tenant(), s.agent().name(), s.taskId(), model, promptTokens,
                                completionTokens, clock.instant()));
                        meteredCalls.incrementAndGet();
                    }, r -> Thread.ofVirtual().start(r));
            try {
                audit.append(event(s, "llm.result", model, null).withDetails(details));
            } finally {
                try {
                    metered.join();
                } catch (java.util.concurrent.CompletionException e) {
                    if (e.getCause() instanceof RuntimeException r) throw r;
                    throw e;
                }
            }
        }
    }

    private static final class Spend {
        final AtomicLong used = new AtomicLong();
        final long since = System.nanoTime();
    }

    private Spend spend(Session s) {
        String k = s.tenant() + "\0" + s.taskId();
        Spend existing = spends.get(k);
        if (existing != null) return existing;
        if (spends.size() > 1024) { // tasks end; their counts go once no task can still be running
            long cutoff = System.nanoTime() - options.maxTaskLifetime.toNanos();
            spends.values().removeIf(sp -> sp.since - cutoff < 0);
        }
        return spends.computeIfAbsent(k, x -> {
            Spend sp = new Spend();
            sp.used.set(store.taskTokens(s.tenant(), s.taskId()).total()); // calls metered before this node knew the task
            return sp;
        });
    }

    // ---- request checks and token estimates ----

    private static String model(ObjectNode request) {
        JsonNode m = request.get("model");
        if (m == null || !m.isTextual() || m.asText().isBlank())
            throw AegisException.invalid("model", "is required: the model's name as a string, e.g. \"gpt-4o-mini\"");
        if (m.asText().length() > MAX_MODEL) throw AegisException.invalid("model", "is longer than " + MAX_MODEL + " characters");
        return m.asText();
    }

    private static JsonNode messages(ObjectNode request) {
        JsonNode ms = request.get("messages");
        if (ms == null || !ms.isArray() || ms.isEmpty())
            throw AegisException.invalid("messages", "is required: a non-empty array of {\"role\", \"content\"} objects");
        for (int i = 0; i < ms.size(); i++) {
            JsonNode m = ms.get(i);
            if (!m.isObject() || !m.path("role").isTextual())
                throw AegisException.invalid("messages[" + i + "]", "must be an object with a \"role\" string");
        }
        return ms;
    }

    private static long inputTokens(ObjectNode request) {
        JsonNode in = request.get("input");
        if (in == null || !(in.isTextual() || in.isArray() && !in.isEmpty()))
            throw AegisException.invalid("input", "is required: a string or a non-empty array of strings");
        if (in.isTextual()) return tokens(in.asText());
        long n = 0;
        for (JsonNode x : in) n += x.isTextual() ? tokens(x.asText()) : x.isArray() ? x.size() : 1;
        return n;
    }

    /**
     * AEGIS's token estimate: one token per 4 characters, rounded up, the usual rule of thumb for English. Used where
     * the provider's own count is not there (yet): the prompt before a call, a stream while it flows. The local model
     * server counts with the same rule, so its figures and AEGIS's agree exactly.
     */
    public static long tokens(String text) {
        return tokensOfChars(text.length());
    }

    private static long tokensOfChars(long chars) {
        return (chars + 3) / 4;
    }

    /** The estimate of a chat prompt: each message's text, plus 3 tokens of framing per message. */
    public static long promptTokens(JsonNode messages) {
        long n = 0;
        for (JsonNode m : messages) n += 3 + tokens(text(m));
        return n;
    }

    /** The text of a message or delta: its content (a string, or the text parts of an array) and tool-call arguments. */
    public static String text(JsonNode message) {
        JsonNode c = message.path("content");
        StringBuilder b = new StringBuilder();
        if (c.isTextual()) b.append(c.asText());
        else for (JsonNode part : c) if (part.path("text").isTextual()) b.append(part.path("text").asText());
        for (JsonNode call : message.path("tool_calls")) b.append(call.path("function").path("arguments").asText(""));
        return b.toString();
    }

    private static AuditEvent event(Session s, String action, String model, Decision d) {
        String actor = "agent:" + (s.instance() == null ? "-" : s.instance().value());
        AuditEvent e = (d == null ? AuditEvent.of(s.tenant(), actor, action, "llm:" + model, Map.of())
                : AuditEvent.decided(s.tenant(), actor, action, "llm:" + model, d)).withAgent(s.agent().name());
        return s.taskId().isEmpty() ? e : e.withTask(s.taskId());
    }

    private static String content(String s) {
        return s.length() <= CONTENT_CAP ? s : s.substring(0, CONTENT_CAP) + "…";
    }

    private static String millis(long t0) {
        return String.format(java.util.Locale.ROOT, "%.3f", (System.nanoTime() - t0) / 1e6);
    }
}
