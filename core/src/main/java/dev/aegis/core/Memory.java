package dev.aegis.core;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Cortex, the agents' semantic memory: one index per tenant, one namespace per agent. What tasks leave behind
 * (logs, tool outputs, results) is indexed after they end; agents query and store through the agent API, clients
 * through the public API. Every method acts inside one tenant only.
 */
public interface Memory {
    /** What a memory is. */
    enum Kind {
        LOG, TOOL_OUTPUT, RESULT, FEEDBACK, NOTE;

        public String wire() {
            return name().toLowerCase();
        }

        public static Kind parse(String field, String raw) {
            for (Kind k : values()) if (k.wire().equals(raw)) return k;
            throw AegisException.invalid(field, "\"" + raw + "\" is not a memory kind; use log, tool_output, result, feedback or note");
        }
    }

    /** Longest text one memory or query may carry; longer task output is chunked before it gets here. */
    int MAX_TEXT = 64 * 1024;

    /**
     * A search.
     *
     * @param agents        namespaces to search; empty searches the whole tenant
     * @param kinds         empty means every kind
     * @param success       only memories of tasks that succeeded (true) or failed (false)
     * @param halfLife      recency decay: a memory this old counts half; empty uses the default (30 days)
     * @param minSimilarity cosine floor in [-1, 1]: less similar memories are dropped unless their words match
     * @param tokenBudget   when set, the hits are packed into this many tokens (near-duplicates merged, long
     *                      memories reduced to their most relevant sentences)
     */
    record Query(String tenant, String text, Set<String> agents, Set<Kind> kinds, Optional<String> task,
                 Set<String> tags, Optional<Boolean> success, Optional<Instant> since, int limit,
                 Optional<Duration> halfLife, Optional<Double> minSimilarity, Optional<Integer> tokenBudget) {
        public Query {
            Objects.requireNonNull(tenant, "tenant");
            text = requireText("q", text);
            agents = Set.copyOf(agents);
            kinds = Set.copyOf(kinds);
            tags = Set.copyOf(tags);
            if (limit < 1 || limit > 100) throw AegisException.invalid("limit", limit + " must be from 1 to 100");
            halfLife.ifPresent(h -> {
                if (h.isNegative() || h.isZero()) throw AegisException.invalid("half_life", "must be positive, e.g. 7d");
            });
            minSimilarity.ifPresent(s -> {
                if (!(s >= -1 && s <= 1)) throw AegisException.invalid("min_similarity", s + " must be from -1 to 1");
            });
            tokenBudget.ifPresent(b -> {
                if (b < 16 || b > 32_768) throw AegisException.invalid("budget", b + " must be from 16 to 32768 tokens");
            });
        }

        /** The plain search: {@code limit} best memories of the whole tenant, default ranking. */
        public static Query of(String tenant, String text, int limit) {
            return new Query(tenant, text, Set.of(), Set.of(), Optional.empty(), Set.of(), Optional.empty(),
                    Optional.empty(), limit, Optional.empty(), Optional.empty(), Optional.empty());
        }

        public Query inAgents(Set<String> names) {
            return new Query(tenant, text, names, kinds, task, tags, success, since, limit, halfLife, minSimilarity, tokenBudget);
        }
    }

    /**
     * One memory found. {@code score} is the final rank score; {@code similarity} the cosine to the query;
     * {@code merged} how many near-duplicates were folded into this one; {@code text} may be an extract.
     */
    record Hit(String id, String agent, Optional<String> task, Kind kind, String text, Optional<Boolean> success,
               Optional<Double> rating, List<String> tags, Instant createdAt, double score, double similarity, int merged) {
        public Hit {
            tags = List.copyOf(tags);
        }
    }

    /** The answer to a search: the hits, best first, and the tokens they take (by the packing's count). */
    record Result(List<Hit> hits, int tokens, String model) {
        public Result {
            hits = List.copyOf(hits);
        }
    }

    /** A memory written on purpose (an agent's {@code memory.store}, or a client). */
    record Note(String tenant, String agent, Optional<String> task, Kind kind, String text, List<String> tags,
                Optional<Boolean> success) {
        public Note {
            Objects.requireNonNull(tenant, "tenant");
            if (agent == null || agent.isBlank()) throw AegisException.invalid("agent", "is required");
            text = requireText("text", text);
            tags = List.copyOf(tags);
            if (tags.size() > 16) throw AegisException.invalid("tags", "at most 16 tags");
            for (String t : tags)
                if (t.isBlank() || t.length() > 64) throw AegisException.invalid("tags", "\"" + t + "\" must be 1 to 64 characters");
        }
    }

    /** What to delete: the whole tenant, one agent's namespace, or one task's memories. */
    sealed interface Scope {
        String tenant();

        record Tenant(String tenant) implements Scope {}

        record Agent(String tenant, String agent) implements Scope {}

        record TaskOf(String tenant, String task) implements Scope {}
    }

    /** A client's judgement of a finished task: {@code score} from -1 (bad) to 1 (good). */
    record Feedback(String tenant, String agent, String task, double score, String text) {
        public Feedback {
            if (!(score >= -1 && score <= 1)) throw AegisException.invalid("score", score + " must be from -1 to 1");
            if (text.length() > MAX_TEXT) throw AegisException.invalid("text", "is " + text.length() + " characters; at most " + MAX_TEXT);
        }
    }

    /** One tenant's index: live memories, per agent, bytes on disk, embedding model and its dimension. */
    record Stats(String tenant, long memories, java.util.Map<String, Long> byAgent, long bytes, String model, int dimension,
                 long queued, long indexed, long skippedDuplicates, long dropped) {}

    /**
     * A task ended: remember what it left behind (logs, tool outputs, result) in its agent's namespace, later.
     * Returns at once, without I/O: it runs on the task's end path, and the task's response never waits.
     */
    void taskEnded(Task task);

    /**
     * A tool call of a running task returned {@code result}: kept with the task and remembered with it (kind
     * {@code tool_output}) when it ends. Returns at once.
     */
    default void toolOutput(String tenant, String task, String tool, String arguments, String result) {}

    Result search(Query query);

    /** Stores a note durably: when this returns, the note survives a crash and is searchable. Returns its id. */
    String store(Note note);

    /** Deletes for good: gone from results at once, and from disk once merged away. Returns how many. */
    long delete(Scope scope);

    /** Stores the feedback as a memory and re-weights every memory of the task by it. */
    void feedback(Feedback feedback);

    Stats stats(String tenant);

    /** No memory on this node: every call but {@link #taskEnded} answers {@code not_available}. */
    Memory NONE = new Memory() {
        private AegisException off() {
            return new AegisException("not_available", "memory is not enabled on this node");
        }

        @Override public void taskEnded(Task task) {}
        @Override public Result search(Query query) { throw off(); }
        @Override public String store(Note note) { throw off(); }
        @Override public long delete(Scope scope) { throw off(); }
        @Override public void feedback(Feedback feedback) { throw off(); }
        @Override public Stats stats(String tenant) { throw off(); }
    };

    /** Non-blank, at most {@link #MAX_TEXT} characters, and well-formed Unicode (no lone surrogates). */
    static String requireText(String field, String text) {
        if (text == null || text.isBlank()) throw AegisException.invalid(field, "must be a non-empty text");
        if (text.length() > MAX_TEXT)
            throw AegisException.invalid(field, "is " + text.length() + " characters; at most " + MAX_TEXT + " per memory");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) i++;
            else if (Character.isSurrogate(c) || c == 0)
                throw AegisException.invalid(field, "is not valid text: character " + i + " is "
                        + (c == 0 ? "NUL" : "an unpaired surrogate") + " (send UTF-8 text)");
        }
        return text;
    }
}
