package dev.aegis.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aegis.core.AegisException;
import dev.aegis.core.LlmProvider;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The gateway against a real HTTP provider (the local model server): both protocols, streams, failures, retries. */
class LlmGatewayTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String KEY = "sk-test-0123456789abcdefXYZ";
    static final String TEXT = "The quarterly report is late. Finance needs the report by Friday. "
            + "The team lunch moved to Thursday. Please send the report draft to finance today. Weather is nice.";

    LocalModelServer server;
    LlmGateway gateway;
    LlmProvider openai;
    LlmProvider anthropic;

    @BeforeEach
    void start() {
        server = LocalModelServer.start().requireKey(KEY);
        gateway = new LlmGateway(new LlmGateway.Config(Duration.ofSeconds(2), Duration.ofSeconds(3), Duration.ofSeconds(2), 3,
                Duration.ofMillis(20), Duration.ofSeconds(2)));
        openai = LlmProvider.of("openai", server.openAiBaseUrl(), "OPENAI_API_KEY", Instant.now());
        anthropic = LlmProvider.of("anthropic", server.anthropicBaseUrl(), "ANTHROPIC_API_KEY", Instant.now());
    }

    @AfterEach
    void stop() {
        server.close();
    }

    static ObjectNode chat(String text) {
        ObjectNode r = JSON.createObjectNode().put("model", "local-summarizer");
        r.putArray("messages").addObject().put("role", "user").put("content", text);
        return r;
    }

    @Test
    void openAiChatAnswersWithTheKeyAddedAndUsageCounted() {
        ObjectNode answer = gateway.chat(openai, KEY, chat(TEXT));
        String content = answer.path("choices").path(0).path("message").path("content").asText();
        assertThat(content).isEqualTo(LocalModels.summarize(TEXT, 3)).contains("report");
        assertThat(answer.path("object").asText()).isEqualTo("chat.completion");
        assertThat(answer.path("usage").path("prompt_tokens").asLong()).isEqualTo(3 + (TEXT.length() + 3) / 4);
        assertThat(answer.path("usage").path("completion_tokens").asLong()).isEqualTo((content.length() + 3) / 4);
        assertThat(server.lastKey()).contains(KEY);
        assertThat(server.lastRequest().orElseThrow().path("stream").asBoolean()).isFalse();
    }

    @Test
    void openAiStreamDeliversChunksThatAddUpToTheAnswer() {
        List<ObjectNode> chunks = new ArrayList<>();
        ObjectNode req = chat(TEXT);
        req.putObject("stream_options").put("include_usage", true);
        gateway.stream(openai, KEY, req, chunks::add);
        StringBuilder text = new StringBuilder();
        for (ObjectNode c : chunks) text.append(c.path("choices").path(0).path("delta").path("content").asText(""));
        assertThat(text.toString()).isEqualTo(LocalModels.summarize(TEXT, 3));
        assertThat(chunks.size()).isGreaterThan(5);
        assertThat(chunks.getLast().path("usage").path("completion_tokens").asLong()).isEqualTo((text.length() + 3) / 4);
        assertThat(chunks.get(chunks.size() - 2).path("choices").path(0).path("finish_reason").asText()).isEqualTo("stop");
    }

    @Test
    void anthropicIsTranslatedBothWaysWithTheKeyInXApiKey() {
        ObjectNode req = JSON.createObjectNode().put("model", "claude-test").put("temperature", 0.2).put("stop", "END");
        req.putArray("messages").addObject().put("role", "system").put("content", "Be brief.");
        req.withArray("messages").addObject().put("role", "user").put("content", TEXT);
        ObjectNode answer = gateway.chat(anthropic, KEY, req);
        assertThat(answer.path("object").asText()).isEqualTo("chat.completion");
        assertThat(answer.path("choices").path(0).path("message").path("content").asText()).isEqualTo(LocalModels.summarize(TEXT, 3));
        assertThat(answer.path("choices").path(0).path("finish_reason").asText()).isEqualTo("stop");
        assertThat(answer.path("usage").path("prompt_tokens").asLong()).isEqualTo((3 + 3) + 3 + (TEXT.length() + 3) / 4); // "Be brief." is 3 tokens
        JsonNode sent = server.lastRequest().orElseThrow();
        assertThat(sent.path("system").asText()).isEqualTo("Be brief.");
        assertThat(sent.path("messages")).hasSize(1);
        assertThat(sent.path("max_tokens").asInt()).isEqualTo(Anthropic.DEFAULT_MAX_TOKENS);
        assertThat(sent.path("stop_sequences").toString()).isEqualTo("[\"END\"]");
        assertThat(server.lastKey()).contains(KEY);

        // max_tokens cuts the answer: finish_reason length, from Anthropic's max_tokens stop reason.
        req.put("max_tokens", 5);
        assertThat(gateway.chat(anthropic, KEY, req).path("choices").path(0).path("finish_reason").asText()).isEqualTo("length");

        List<ObjectNode> chunks = new ArrayList<>();
        req.remove("max_tokens");
        gateway.stream(anthropic, KEY, req, chunks::add);
        StringBuilder text = new StringBuilder();
        for (ObjectNode c : chunks) text.append(c.path("choices").path(0).path("delta").path("content").asText(""));
        assertThat(text.toString()).isEqualTo(LocalModels.summarize(TEXT, 3));
        assertThat(chunks.getFirst().path("choices").path(0).path("delta").path("role").asText()).isEqualTo("assistant");
        assertThat(chunks.getLast().path("usage").path("completion_tokens").asLong()).isEqualTo((text.length() + 3) / 4);
        assertThat(chunks).allMatch(c -> c.path("object").asText().equals("chat.completion.chunk"));

        // What does not translate is refused, naming the field, before anything is sent.
        int before = server.requests();
        ObjectNode tools = req.deepCopy();
        tools.putArray("tools");
        assertThatThrownBy(() -> gateway.chat(anthropic, KEY, tools)).isInstanceOf(AegisException.class)
                .hasMessageContaining("tools").hasMessageContaining("not translated");
        assertThatThrownBy(() -> gateway.embeddings(anthropic, KEY, JSON.createObjectNode().put("input", "x")))
                .hasMessageContaining("no embeddings API");
        assertThat(server.requests()).isEqualTo(before);
    }

    @Test
    void embeddingsAreDeterministicUnitVectorsAndSimilarTextsAreClose() {
        ObjectNode req = JSON.createObjectNode().put("model", "local-embed");
        req.putArray("input").add("the cat sat on the mat").add("a cat sat on a mat").add("quarterly finance report");
        ObjectNode answer = gateway.embeddings(openai, KEY, req);
        List<double[]> vs = new ArrayList<>();
        for (JsonNode d : answer.path("data")) {
            double[] v = new double[d.path("embedding").size()];
            for (int i = 0; i < v.length; i++) v[i] = d.path("embedding").get(i).asDouble();
            vs.add(v);
        }
        assertThat(vs).hasSize(3);
        assertThat(vs.getFirst()).hasSize(64);
        assertThat(dot(vs.get(0), vs.get(0))).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
        assertThat(dot(vs.get(0), vs.get(1))).isGreaterThan(dot(vs.get(0), vs.get(2)) + 0.3);
        assertThat(gateway.embeddings(openai, KEY, req).path("data").toString()).isEqualTo(answer.path("data").toString());
        assertThat(answer.path("usage").path("prompt_tokens").asLong()).isPositive();
    }

    @Test
    void rateLimitsAreRetriedHonouringRetryAfterThenSucceed() {
        server.failNext(1, 429, Optional.of(Duration.ofSeconds(1)));
        server.failNext(1, 503, Optional.empty());
        long t0 = System.nanoTime();
        ObjectNode answer = gateway.chat(openai, KEY, chat(TEXT));
        assertThat(answer.path("choices").path(0).path("message").path("content").asText()).contains("report");
        assertThat(server.requests()).isEqualTo(3);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("waited the 1 s the provider asked for").isGreaterThan(Duration.ofMillis(950));

        // A stream is retried too, as long as nothing reached the caller.
        server.failNext(2, 429, Optional.of(Duration.ZERO));
        List<ObjectNode> chunks = new ArrayList<>();
        gateway.stream(openai, KEY, chat(TEXT), chunks::add);
        assertThat(chunks).isNotEmpty();
        assertThat(server.requests()).isEqualTo(6);
    }

    @Test
    void serverErrorsGiveUpAfterTheRetriesAndSaySo() {
        server.failNext(4, 500, Optional.empty());
        assertThatThrownBy(() -> gateway.chat(openai, KEY, chat(TEXT))).isInstanceOfSatisfying(AegisException.class, e -> {
            assertThat(e.code()).isEqualTo("llm_upstream_error");
            assertThat(e.getMessage()).contains("answered 500").contains("injected failure 500").contains("after 4 attempts")
                    .contains(server.anthropicBaseUrl());
        });
        assertThat(server.requests()).isEqualTo(4);
        // A provider asking for a longer wait than AEGIS allows gets no retry.
        server.failNext(1, 429, Optional.of(Duration.ofSeconds(60)));
        int before = server.requests();
        assertThatThrownBy(() -> gateway.chat(openai, KEY, chat(TEXT))).hasMessageContaining("retry after 60 s");
        assertThat(server.requests()).isEqualTo(before + 1);
    }

    @Test
    void aHangingProviderTimesOutAndAWrongKeyIsNotEchoed() {
        server.hangNext(1);
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> gateway.chat(openai, KEY, chat(TEXT))).isInstanceOfSatisfying(AegisException.class,
                e -> assertThat(e.code()).isEqualTo("llm_timeout"));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(2900), Duration.ofSeconds(6));
        server.hangNext(1);
        assertThatThrownBy(() -> gateway.stream(openai, KEY, chat(TEXT), c -> { })).isInstanceOfSatisfying(AegisException.class,
                e -> assertThat(e.code()).isEqualTo("llm_timeout"));

        String wrong = "sk-wrong-key-00000000000000";
        assertThatThrownBy(() -> gateway.chat(openai, wrong, chat(TEXT))).isInstanceOfSatisfying(AegisException.class, e -> {
            assertThat(e.code()).isEqualTo("llm_upstream_error");
            assertThat(e.getMessage()).contains("answered 401").contains("OPENAI_API_KEY").doesNotContain(wrong);
        });
        assertThat(LlmGateway.scrub("Incorrect API key provided: " + KEY.substring(0, KEY.length() - 4) + "****", KEY))
                .isEqualTo("Incorrect API key provided: [key]****");
    }

    @Test
    void aStreamCutShortIsAnErrorAndIsNotRetried() {
        server.cutNextStream(3);
        List<ObjectNode> chunks = new ArrayList<>();
        assertThatThrownBy(() -> gateway.stream(openai, KEY, chat(TEXT), chunks::add)).isInstanceOfSatisfying(AegisException.class, e -> {
            assertThat(e.code()).isEqualTo("llm_upstream_error");
            assertThat(e.getMessage()).contains("ended its stream before it was complete");
        });
        assertThat(chunks).hasSize(4); // the role chunk and three pieces
        assertThat(server.requests()).isEqualTo(1);

        // The caller stopping the stream (e.g. its budget) ends it with the caller's error.
        assertThatThrownBy(() -> gateway.stream(anthropic, KEY, chat(TEXT), c -> {
            if (c.path("choices").path(0).path("delta").has("content") && !c.path("choices").path(0).path("delta").path("content").asText().isEmpty())
                throw new AegisException("llm_budget_exceeded", "stop");
        })).hasMessage("stop");
        // The provider's refusal of a request is the caller's error, not the provider's.
        assertThatThrownBy(() -> gateway.chat(openai, KEY, JSON.createObjectNode().put("model", "m").putNull("messages")))
                .isInstanceOfSatisfying(AegisException.class, e -> assertThat(e.code()).isEqualTo("llm_invalid_request"));
    }

    @Test
    void anUnreachableProviderIsRetriedThenReported() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        LlmProvider gone = LlmProvider.of("openai", "http://127.0.0.1:" + port + "/v1", "OPENAI_API_KEY", Instant.now());
        assertThatThrownBy(() -> gateway.chat(gone, KEY, chat(TEXT))).isInstanceOfSatisfying(AegisException.class, e -> {
            assertThat(e.code()).isEqualTo("llm_upstream_error");
            assertThat(e.getMessage()).contains("cannot connect").contains("after 4 attempts").doesNotContain(KEY);
        });
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}
