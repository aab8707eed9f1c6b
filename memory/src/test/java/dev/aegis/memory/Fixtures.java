package dev.aegis.memory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aegis.audit.FileAuditLog;
import dev.aegis.core.Memory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Shared by the memory tests: the built-in models (loaded once per JVM), a real audit log, a settable clock. */
final class Fixtures {
    private Fixtures() {}

    static final OnnxEmbedder MINILM = new OnnxEmbedder(OnnxEmbedder.Model.ALL_MINILM_L6_V2, System.err::println);
    static final OnnxEmbedder BGE = new OnnxEmbedder(OnnxEmbedder.Model.BGE_SMALL_EN_V15, System.err::println);
    static final OnnxEmbedder MINILM_Q = new OnnxEmbedder(OnnxEmbedder.Model.ALL_MINILM_L6_V2_Q, System.err::println);
    static final OnnxEmbedder BGE_Q = new OnnxEmbedder(OnnxEmbedder.Model.BGE_SMALL_EN_V15_Q, System.err::println);

    static OnnxEmbedder defaultModel() {
        return OnnxEmbedder.DEFAULT == OnnxEmbedder.Model.BGE_SMALL_EN_V15 ? BGE : MINILM;
    }

    /** A clock the test moves by hand. */
    static final class ManualClock extends Clock {
        private volatile Instant now;

        ManualClock(Instant start) {
            this.now = start;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override public ZoneOffset getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId zone) { return this; }
        @Override public Instant instant() { return now; }
    }

    record Node(Cortex cortex, FileAuditLog audit) implements AutoCloseable {
        @Override
        public void close() {
            cortex.close();
            audit.close();
        }
    }

    static Node cortex(Path dir, Embedder embedder, Clock clock) {
        return cortex(dir, embedder, clock, task -> List.of());
    }

    static Node cortex(Path dir, Embedder embedder, Clock clock, Cortex.TaskSource logs) {
        FileAuditLog audit = FileAuditLog.open(dir.resolve("audit"));
        Cortex c = new Cortex(Cortex.Config.defaults(dir.resolve("memory"), embedder), EmbeddingService.defaults(embedder), audit, clock,
                logs, System.err::println);
        return new Node(c, audit);
    }

    /** The labelled retrieval set: memories (id, agent, kind, text) and queries with the id they should find. */
    record LabelledSet(List<JsonNode> memories, List<JsonNode> queries) {}

    static LabelledSet labelled() {
        try (InputStream in = Fixtures.class.getResourceAsStream("/retrieval-set.json")) {
            JsonNode root = new ObjectMapper().readTree(in);
            List<JsonNode> m = new ArrayList<>(), q = new ArrayList<>();
            root.path("memories").forEach(m::add);
            root.path("queries").forEach(q::add);
            return new LabelledSet(m, q);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Stores the set through the public API; returns set id -> memory id. */
    static Map<String, String> load(Cortex cortex, String tenant, LabelledSet set) {
        List<Memory.Note> notes = set.memories().stream().map(m -> new Memory.Note(tenant, m.path("agent").asText(), Optional.empty(),
                Memory.Kind.parse("kind", m.path("kind").asText()), m.path("text").asText(), List.of(), Optional.empty())).toList();
        List<String> stored = cortex.storeAll(notes);
        Map<String, String> ids = new java.util.HashMap<>();
        for (int i = 0; i < stored.size(); i++) ids.put(stored.get(i), set.memories().get(i).path("id").asText());
        return ids;
    }
}
