package dev.aegis.core;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The network side of the LLM gateway: sends an OpenAI-shaped request to a provider with its key, and gives back
 * OpenAI-shaped answers whatever the provider speaks. Checks, budgets, metering and audit are {@link LlmCalls}'s; an
 * implementation only forwards, retries what may be retried, and maps the provider's failures to
 * {@link AegisException}s coded {@code llm_upstream_error} or {@code llm_timeout}, whose messages never hold the key.
 */
public interface LlmUpstream {
    /** {@code POST /chat/completions} without streaming: the {@code chat.completion} object. */
    ObjectNode chat(LlmProvider provider, String key, ObjectNode request);

    /**
     * {@code POST /chat/completions} with streaming: each {@code chat.completion.chunk} goes to {@code chunks} as it
     * arrives, the last one carrying {@code usage} when the provider reports it. Failures before the first chunk may
     * be retried; after it, never (the agent has seen part of an answer). An exception thrown by {@code chunks} stops
     * the stream (the upstream connection is closed) and propagates.
     */
    void stream(LlmProvider provider, String key, ObjectNode request, Chunks chunks);

    /** {@code POST /embeddings}: the {@code list} object of embeddings. */
    ObjectNode embeddings(LlmProvider provider, String key, ObjectNode request);

    /** Receives a stream's chunks in order. */
    @FunctionalInterface
    interface Chunks {
        void chunk(ObjectNode chunk);
    }
}
