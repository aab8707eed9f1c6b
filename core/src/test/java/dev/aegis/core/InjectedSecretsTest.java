package dev.aegis.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JacksonException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InjectedSecretsTest {
    static final String VALUE = "S3cr3t-\"q\"\\b-ünï-0123456789abcdef";
    final InjectedSecrets s = new InjectedSecrets(Map.of("API_TOKEN", VALUE, "SHORT", "abcd", "LONGER", "abcd-and-more"));

    @Test
    void replacesEveryCoveredFormWithTheName() {
        assertThat(s.scrub("token=" + VALUE + ";")).isEqualTo("token=[secret:API_TOKEN];");
        assertThat(s.scrub(VALUE + VALUE)).isEqualTo("[secret:API_TOKEN][secret:API_TOKEN]");
        // JSON-escaped, as json.dumps writes it with and without ensure_ascii (and as Jackson does).
        assertThat(s.scrub("{\"t\": \"S3cr3t-\\\"q\\\"\\\\b-\\u00fcn\\u00ef-0123456789abcdef\"}")).isEqualTo("{\"t\": \"[secret:API_TOKEN]\"}");
        assertThat(s.scrub("{\"t\": \"S3cr3t-\\\"q\\\"\\\\b-ünï-0123456789abcdef\"}")).isEqualTo("{\"t\": \"[secret:API_TOKEN]\"}");
        // base64 alone and inside a longer base64 text at each of the three alignments, both alphabets.
        byte[] raw = VALUE.getBytes(StandardCharsets.UTF_8);
        for (String prefix : new String[]{"", "x", "xy"}) {
            byte[] wrapped = (prefix + VALUE + "z").getBytes(StandardCharsets.UTF_8);
            for (Base64.Encoder enc : new Base64.Encoder[]{Base64.getEncoder(), Base64.getUrlEncoder()}) {
                String encoded = enc.encodeToString(wrapped);
                String out = s.scrub("blob " + encoded);
                assertThat(out).as(prefix + " " + encoded).contains("[secret:API_TOKEN]");
                assertThat(out.length()).as("at most a few edge characters stay").isLessThan("blob ".length() + 20 + 8);
            }
        }
        assertThat(s.scrub(Base64.getEncoder().encodeToString(raw))).isEqualTo("[secret:API_TOKEN]");
        assertThat(s.scrub(Base64.getUrlEncoder().withoutPadding().encodeToString(raw) + ".")).isEqualTo("[secret:API_TOKEN].");
        // The longest value wins where one contains another; short values are still replaced verbatim.
        assertThat(s.scrub("abcd-and-more / abcd")).isEqualTo("[secret:LONGER] / [secret:SHORT]");
        assertThat(s.scrub("nothing to see")).isEqualTo("nothing to see");
        assertThat(s.toString()).doesNotContain(VALUE).contains("API_TOKEN");
    }

    /** Prints what scrubbing costs per log line; the bound only catches a gross regression. */
    @Test
    void scrubbingALineCostsMicroseconds() {
        Map<String, String> ten = new java.util.HashMap<>();
        for (int i = 0; i < 10; i++) ten.put("SECRET_" + i, "value-" + i + "-" + "x".repeat(24));
        InjectedSecrets many = new InjectedSecrets(ten);
        String line = "an ordinary log line of about one kilobyte ".repeat(24);
        for (int i = 0; i < 20_000; i++) many.scrub(line + i);
        int n = 100_000;
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) many.scrub(line);
        double us = (System.nanoTime() - t0) / 1e3 / n;
        System.out.printf("scrub of a %d-byte log line against 10 secrets (each verbatim, JSON-escaped and base64): %.2f us%n",
                line.length(), us);
        assertThat(us).isLessThan(1_000);
    }

    @Test
    void jsonResultsAreScrubbedInsideStringsAndStayJson() throws Exception {
        String doubleEscaped = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(
                Map.of("echo", VALUE, "escaped", new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(VALUE),
                        VALUE, 1));
        String out = s.scrubJson(doubleEscaped);
        assertThat(out).doesNotContain("S3cr3t").contains("\"echo\":\"[secret:API_TOKEN]\"").contains("\"[secret:API_TOKEN]\":1")
                .contains("\"escaped\":\"\\\"[secret:API_TOKEN]\\\"\"");
        assertThat(InjectedSecrets.NONE.scrubJson(" {\"a\" : [1, 2]} ")).isEqualTo("{\"a\":[1,2]}");
        // A value spanning JSON syntax cannot be scrubbed and leave JSON: refused rather than stored.
        InjectedSecrets odd = new InjectedSecrets(Map.of("ODD", "1,\"b\""));
        assertThatThrownBy(() -> odd.scrubJson("{\"a\": [1, \"b\"]}")).isInstanceOf(JacksonException.class);
    }
}
