package dev.aegis.memory;

import dev.aegis.core.Memory;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import org.apache.lucene.analysis.Analyzer;

/**
 * Context compression: the best hits packed into a token budget, in rank order. A hit that fits whole goes in
 * whole; a longer one is reduced to its sentences that share most words with the query (extractive, in their
 * original order, gaps marked with " … "), within a share of the budget so one long memory cannot crowd out the rest.
 */
final class Compressor {
    private Compressor() {}

    static Memory.Result pack(List<Memory.Hit> hits, int budget, Set<String> queryTerms, Analyzer analyzer, String model) {
        List<Memory.Hit> out = new ArrayList<>();
        int used = 0;
        for (Memory.Hit h : hits) {
            int left = budget - used;
            if (left < 8) break;
            int size = Tokens.count(h.text());
            if (size <= left) {
                out.add(h);
                used += size;
                continue;
            }
            String extract = extract(h.text(), Math.min(left, Math.max(budget / 3, 24)), queryTerms, analyzer);
            if (extract.isEmpty()) continue;
            out.add(new Memory.Hit(h.id(), h.agent(), h.task(), h.kind(), extract, h.success(), h.rating(), h.tags(),
                    h.createdAt(), h.score(), h.similarity(), h.merged()));
            used += Tokens.count(extract);
        }
        return new Memory.Result(out, used, model);
    }

    /** The most query-like sentences of {@code text} that fit in {@code max} tokens, in text order. */
    static String extract(String text, int max, Set<String> queryTerms, Analyzer analyzer) {
        List<String> sentences = sentences(text);
        record Scored(int at, String s, int tokens, double score) {}
        List<Scored> scored = new ArrayList<>();
        for (int i = 0; i < sentences.size(); i++) {
            String s = sentences.get(i);
            // Earlier sentences win ties: logs and results usually lead with what matters.
            scored.add(new Scored(i, s, Tokens.count(s), HybridSearch.coverage(analyzer, queryTerms, s) - i * 1e-4));
        }
        scored.sort(Comparator.comparingDouble((Scored s) -> -s.score()));
        List<Scored> chosen = new ArrayList<>();
        int used = 0;
        for (Scored s : scored)
            if (used + s.tokens() <= max) {
                chosen.add(s);
                used += s.tokens();
            }
        if (chosen.isEmpty()) {
            // Not even one sentence fits: its first tokens then.
            List<int[]> spans = Tokens.spans(text);
            return spans.isEmpty() ? "" : text.substring(0, spans.get(Math.min(max, spans.size()) - 1)[1]) + " …";
        }
        chosen.sort(Comparator.comparingInt(Scored::at));
        StringBuilder b = new StringBuilder();
        int last = -1;
        for (Scored s : chosen) {
            if (!b.isEmpty()) b.append(s.at() == last + 1 ? " " : " … ");
            b.append(s.s());
            last = s.at();
        }
        return b.toString();
    }

    static List<String> sentences(String text) {
        List<String> out = new ArrayList<>();
        for (String line : text.split("\\R"))
            for (String s : line.split("(?<=[.!?;])\\s+")) if (!s.isBlank()) out.add(s.strip());
        return out;
    }
}
