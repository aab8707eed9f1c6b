package dev.aegis.memory;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class TokensTest {
    @Test
    void countsWordsAndPunctuation() {
        assertThat(Tokens.count("Build 1841 failed: flaky test_login.")).isEqualTo(7);
        assertThat(Tokens.count("   ")).isZero();
    }

    @Test
    void chunksOverlapAndCoverEverything() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 100; i++) b.append("w").append(i).append(' ');
        List<String> chunks = Tokens.chunks(b.toString(), 40, 10);
        assertThat(chunks).hasSize(3); // 0-39, 30-69, 60-99
        assertThat(chunks.get(0)).startsWith("w0 ").endsWith("w39");
        assertThat(chunks.get(1)).startsWith("w30 ").endsWith("w69");
        assertThat(chunks.get(2)).startsWith("w60 ").endsWith("w99");
        assertThat(Tokens.chunks("short text", 40, 10)).containsExactly("short text");
        assertThat(Tokens.chunks(" \n ", 40, 10)).isEmpty();
    }

    @Test
    void sentencesAndExtracts() {
        String text = "Copied shard 1. Copied shard 2. The copy failed on object lock. Copied shard 3.";
        assertThat(Compressor.sentences(text)).hasSize(4);
        var analyzer = new org.apache.lucene.analysis.en.EnglishAnalyzer();
        String extract = Compressor.extract(text, 10, HybridSearch.analyze(analyzer, "why did the copy fail: object lock"), analyzer);
        assertThat(extract).isEqualTo("The copy failed on object lock.");
    }
}
