package dev.aegis.memory;

import dev.aegis.core.Memory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;

/**
 * The query optimizer: vector (HNSW) and BM25 candidates under the same metadata filter, fused by relative score,
 * then weighted by recency (exponential decay) and by how the memory's task went (success, client rating), cut
 * by a similarity floor, de-duplicated, diversified (MMR), and optionally packed into a token budget.
 */
final class HybridSearch {
    /**
     * @param halfLife      default recency half-life, overridden per agent by {@code halfLifeByAgent}, and by the query
     * @param minSimilarity cosine under which a memory is irrelevant unless most query words occur in it
     * @param candidates    how many each of the vector and the text search contribute
     */
    record Settings(Duration halfLife, Map<String, Duration> halfLifeByAgent, double minSimilarity, int candidates, double textWeight,
                    double duplicate, double mmrLambda) {
        Settings {
            halfLifeByAgent = Map.copyOf(halfLifeByAgent);
        }
    }


    private HybridSearch() {}

    /** A candidate on its way through the ranking. */
    private static final class Candidate {
        final TenantIndex.Stored stored;
        double fused, similarity, score;
        int merged;

        Candidate(TenantIndex.Stored stored) {
            this.stored = stored;
        }
    }

    static Memory.Result run(TenantIndex index, Memory.Query q, float[] qv, Instant now, Settings s) {
        Set<String> terms = analyze(index.analyzer, q.text());
        Query filter = TenantIndex.filter(q);
        int k = Math.max(s.candidates(), q.limit() * 4);
        List<Candidate> found = index.withSearcher(searcher -> {
            Map<Integer, Candidate> byDoc = new HashMap<>();
            ScoreDoc[] vector = searcher.search(TenantIndex.knn(qv, k, filter), k).scoreDocs;
            double floor = q.minSimilarity().orElse(s.minSimilarity());
            // Lucene scores unit-vector dot products as (1 + cosine) / 2.
            fuse(searcher, vector, byDoc, 1 - s.textWeight(), score -> 2 * score - 1, floor);
            if (!terms.isEmpty()) {
                BooleanQuery.Builder text = new BooleanQuery.Builder();
                for (String t : terms) text.add(new TermQuery(new Term(TenantIndex.TEXT, t)), BooleanClause.Occur.SHOULD);
                text.add(filter, BooleanClause.Occur.FILTER);
                fuse(searcher, searcher.search(text.build(), k).scoreDocs, byDoc, s.textWeight(), score -> score, 0);
            }
            return new ArrayList<>(byDoc.values());
        });
        List<Candidate> kept = new ArrayList<>();
        for (Candidate c : found) {
            c.similarity = dot(qv, c.stored.vector());
            double floor = q.minSimilarity().orElse(s.minSimilarity());
            if (c.similarity < floor && coverage(index.analyzer, terms, c.stored.doc().text()) < 0.6) continue;
            c.score = c.fused * recency(c.stored.doc(), q, now, s) * outcome(c.stored);
            kept.add(c);
        }
        kept.sort(Comparator.comparingDouble((Candidate c) -> -c.score));
        List<Candidate> distinct = mergeDuplicates(kept, s.duplicate());
        List<Candidate> picked = mmr(distinct, q.limit(), s.mmrLambda());
        List<Memory.Hit> hits = picked.stream().map(HybridSearch::hit).toList();
        if (q.tokenBudget().isEmpty()) return new Memory.Result(hits, hits.stream().mapToInt(h -> Tokens.count(h.text())).sum(), index.model());
        return Compressor.pack(hits, q.tokenBudget().get(), terms, index.analyzer, index.model());
    }

    /**
     * Relative score fusion: each list's scores are scaled to [0, 1] against its best candidate (vector similarity
     * from the floor up, BM25 from zero up) and added with the list's weight. Unlike rank fusion, a text match that
     * stands out (an invoice number, an error code) keeps its lead, while a weak lexical overlap shared by many
     * memories adds little; and unlike min-max scaling, the runner-up of two near-equal memories is not scored zero.
     */
    private static void fuse(IndexSearcher searcher, ScoreDoc[] ranked, Map<Integer, Candidate> byDoc, double weight,
                             java.util.function.DoubleUnaryOperator score, double floor) throws IOException {
        if (ranked.length == 0) return;
        double best = score.applyAsDouble(ranked[0].score);
        for (ScoreDoc sd : ranked) {
            Candidate c = byDoc.get(sd.doc);
            if (c == null) byDoc.put(sd.doc, c = new Candidate(TenantIndex.load(searcher, sd.doc)));
            double scaled = best <= floor ? 1 : (score.applyAsDouble(sd.score) - floor) / (best - floor);
            c.fused += weight * Math.max(0, Math.min(1, scaled));
        }
    }

    /** From 1 (just now) down to 0.5 for a very old memory: old knowledge fades but is not forgotten. */
    static double recency(MemoryDoc m, Memory.Query q, Instant now, Settings s) {
        Duration half = q.halfLife().orElse(s.halfLifeByAgent().getOrDefault(m.agent(), s.halfLife()));
        double age = Math.max(0, Duration.between(m.createdAt(), now).toMillis());
        return 0.5 + 0.5 * Math.pow(0.5, age / half.toMillis());
    }

    /** Memories of tasks that went well count more, of failed or badly rated ones less. */
    static double outcome(TenantIndex.Stored s) {
        double f = s.doc().success().map(ok -> ok ? 1.1 : 0.85).orElse(1.0);
        return f * (1 + 0.3 * s.rating().orElse(0.0));
    }

    private static List<Candidate> mergeDuplicates(List<Candidate> sorted, double threshold) {
        List<Candidate> out = new ArrayList<>();
        next:
        for (Candidate c : sorted) {
            for (Candidate k : out)
                if (dot(c.stored.vector(), k.stored.vector()) >= threshold) {
                    k.merged++;
                    continue next;
                }
            out.add(c);
        }
        return out;
    }

    /** Maximal marginal relevance: each pick trades its score against its likeness to earlier picks. */
    private static List<Candidate> mmr(List<Candidate> pool, int limit, double lambda) {
        List<Candidate> rest = new ArrayList<>(pool), picked = new ArrayList<>();
        double top = pool.isEmpty() ? 1 : pool.getFirst().score;
        while (picked.size() < limit && !rest.isEmpty()) {
            Candidate best = null;
            double bestValue = Double.NEGATIVE_INFINITY;
            for (Candidate c : rest) {
                double like = 0;
                for (Candidate p : picked) like = Math.max(like, dot(c.stored.vector(), p.stored.vector()));
                double value = lambda * c.score / top - (1 - lambda) * like;
                if (value > bestValue) {
                    bestValue = value;
                    best = c;
                }
            }
            picked.add(best);
            rest.remove(best);
        }
        return picked;
    }

    private static Memory.Hit hit(Candidate c) {
        MemoryDoc m = c.stored.doc();
        return new Memory.Hit(m.id(), m.agent(), m.task(), m.kind(), m.text(), m.success(), c.stored.rating(), m.tags(),
                m.createdAt(), c.score, c.similarity, c.merged);
    }

    static double dot(float[] a, float[] b) {
        if (a == null || b == null) return 0;
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    /** Share of the query's terms (as the index analyses them) that occur in {@code text}. */
    static double coverage(Analyzer analyzer, Set<String> queryTerms, String text) {
        if (queryTerms.isEmpty()) return 0;
        Set<String> have = analyze(analyzer, text);
        return queryTerms.stream().filter(have::contains).count() / (double) queryTerms.size();
    }

    static Set<String> analyze(Analyzer analyzer, String text) {
        Set<String> out = new LinkedHashSet<>();
        try (TokenStream ts = analyzer.tokenStream(TenantIndex.TEXT, text)) {
            CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
            ts.reset();
            while (ts.incrementToken()) out.add(term.toString());
            ts.end();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }
}
