package dev.aegis.memory;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.core.Memory;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retrieval quality on the labelled set (src/test/resources/retrieval-set.json: 248 agent logs, tool outputs,
 * results and notes; 63 queries: 15 paraphrases sharing no word with their target, 8 exact identifiers such as
 * invoice numbers and incident ids). Both built-in models
 * are measured through the real index and ranking; the better one is {@link OnnxEmbedder#DEFAULT}.
 */
class RetrievalQualityTest {
    @TempDir
    Path dir;

    record Scores(String model, String mode, double recall1, double recall5, double mrr, double paraphraseRecall5, double idRecall5) {
        @Override
        public String toString() {
            return String.format("%-18s %-7s recall@1 %.3f  recall@5 %.3f  MRR@10 %.3f  paraphrases recall@5 %.3f  identifiers recall@5 %.3f",
                    model, mode, recall1, recall5, mrr, paraphraseRecall5, idRecall5);
        }
    }

    @Test
    void theDefaultModelRetrievesBestAndAboveTheFloor() {
        Fixtures.LabelledSet set = Fixtures.labelled();
        assertThat(set.memories()).hasSizeGreaterThanOrEqualTo(200);
        assertThat(set.queries()).hasSizeGreaterThanOrEqualTo(50);
        List<Scores> all = new ArrayList<>();
        for (OnnxEmbedder model : List.of(Fixtures.MINILM, Fixtures.MINILM_Q, Fixtures.BGE, Fixtures.BGE_Q)) {
            try (Fixtures.Node node = Fixtures.cortex(dir.resolve(model.id()), model, java.time.Clock.systemUTC())) {
                Map<String, String> ids = Fixtures.load(node.cortex(), "acme", set);
                all.add(hybrid(node.cortex(), set, ids, model.id()));
                all.add(vectorOnly(model, set));
            }
        }
        all.forEach(s -> System.out.println("retrieval: " + s));
        Scores best = all.stream().filter(s -> s.mode().equals("hybrid"))
                .max(Comparator.comparingDouble(Scores::recall5).thenComparingDouble(Scores::mrr)).orElseThrow();
        assertThat(best.model()).as("the default model is the one that retrieves best").isEqualTo(OnnxEmbedder.DEFAULT.id());
        assertThat(best.recall5()).as("recall@5 of the default").isGreaterThanOrEqualTo(0.9);
        assertThat(best.paraphraseRecall5()).as("paraphrases with no shared word").isGreaterThanOrEqualTo(0.7);
        assertThat(best.idRecall5()).as("identifiers: what BM25 brings").isGreaterThanOrEqualTo(0.75);
        Scores vector = all.stream().filter(s -> s.mode().equals("vector") && s.model().equals(best.model())).findFirst().orElseThrow();
        assertThat(best.idRecall5()).as("hybrid finds identifiers the model alone misses").isGreaterThan(vector.idRecall5());
    }

    private static Scores hybrid(Cortex cortex, Fixtures.LabelledSet set, Map<String, String> ids, String model) {
        double r1 = 0, r5 = 0, mrr = 0, p5 = 0, paraphrases = 0, i5 = 0, identifiers = 0;
        for (JsonNode q : set.queries()) {
            boolean id = q.path("identifier").asBoolean();
            if (id) identifiers++;
            List<Memory.Hit> hits = cortex.search(Memory.Query.of("acme", q.path("q").asText(), 10)).hits();
            int rank = -1;
            for (int i = 0; i < hits.size(); i++) if (ids.get(hits.get(i).id()).equals(q.path("expect").asText())) rank = i;
            boolean para = q.path("paraphrase").asBoolean();
            if (para) paraphrases++;
            if (rank == 0) r1++;
            if (rank >= 0 && rank < 5) {
                r5++;
                if (para) p5++;
                if (id) i5++;
            }
            if (rank >= 0) mrr += 1.0 / (rank + 1);
            if (rank < 0 || rank >= 5) System.out.println("retrieval: " + model + " missed \"" + q.path("q").asText() + "\" (rank " + rank + ")");
        }
        int n = set.queries().size();
        return new Scores(model, "hybrid", r1 / n, r5 / n, mrr / n, p5 / paraphrases, i5 / identifiers);
    }

    /** The model alone: exact cosine over the whole set, no text search, no ranking extras. */
    private static Scores vectorOnly(OnnxEmbedder model, Fixtures.LabelledSet set) {
        long t0 = System.nanoTime();
        List<float[]> docs = model.embed(set.memories().stream().map(m -> m.path("text").asText()).toList());
        System.out.printf("retrieval: %s embedded %d memories in one thread at %.0f/s%n", model.id(), docs.size(),
                docs.size() / ((System.nanoTime() - t0) / 1e9));
        double r1 = 0, r5 = 0, mrr = 0, p5 = 0, paraphrases = 0, i5 = 0, identifiers = 0;
        for (JsonNode q : set.queries()) {
            boolean id = q.path("identifier").asBoolean();
            if (id) identifiers++;
            float[] qv = model.embedQuery(q.path("q").asText());
            String want = q.path("expect").asText();
            double target = 0;
            int better = 0;
            for (int i = 0; i < docs.size(); i++) if (set.memories().get(i).path("id").asText().equals(want)) target = HybridSearch.dot(qv, docs.get(i));
            for (float[] d : docs) if (HybridSearch.dot(qv, d) > target) better++;
            boolean para = q.path("paraphrase").asBoolean();
            if (para) paraphrases++;
            if (better == 0) r1++;
            if (better < 5) {
                r5++;
                if (para) p5++;
                if (id) i5++;
            }
            if (better < 10) mrr += 1.0 / (better + 1);
        }
        int n = set.queries().size();
        return new Scores(model.id(), "vector", r1 / n, r5 / n, mrr / n, p5 / paraphrases, i5 / identifiers);
    }
}
