package dev.aegis.llm;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.aegis.core.LlmCalls;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Deque;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A real HTTP server speaking OpenAI's chat completions (streaming and not, with {@code usage}) and embeddings, and
 * Anthropic's Messages API, with deterministic answers ({@link LocalModels}): the provider of tests, benchmarks and
 * the demo when no real one is configured, and {@code aegis llm serve}. It is not a model: a chat answer is an
 * extractive summary of the last user message. Tokens are counted with AEGIS's own rule ({@link LlmCalls#tokens}).
 *
 * <p>Test hooks make the next requests fail ({@link #failNext}), hang ({@link #hangNext}) or end a stream early
 * ({@link #cutNextStream}); {@link #requireKey} makes it check the key like a provider would.
 */
public final class LocalModelServer implements AutoCloseable {
    /** How many sentences a chat answer has at most. */
    static final int SENTENCES = 3;
    private static final int DEFAULT_DIMENSIONS = 64;
    private static final int MAX_REQUEST = 16 * 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        // Stream events are small writes: without TCP_NODELAY, Nagle's algorithm holds each one until the client's
        // delayed ACK (40 ms here). Read once, when the JDK's HTTP server is first used in this JVM.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    private sealed interface Fault {}

    private record Fail(int status, Optional<Duration> retryAfter) implements Fault {}

    private record Hang() implements Fault {}

    private record Cut(int afterPieces) implements Fault {}

    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Deque<Fault> faults = new ConcurrentLinkedDeque<>();
    private final CountDownLatch closing = new CountDownLatch(1);
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicReference<String> lastKey = new AtomicReference<>();
    private final AtomicReference<JsonNode> lastRequest = new AtomicReference<>();
    private volatile Optional<String> requiredKey = Optional.empty();

    private LocalModelServer(HttpServer server) {
        this.server = server;
    }

    /** Starts on {@code host:port} ({@code port} 0 picks a free one). */
    public static LocalModelServer start(String host, int port) {
        HttpServer s;
        try {
            s = HttpServer.create(new InetSocketAddress(InetAddress.getByName(host), port), 64);
        } catch (IOException e) {
            throw new IllegalStateException("local model server: cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        LocalModelServer m = new LocalModelServer(s);
        s.setExecutor(m.executor);
        s.createContext("/v1/chat/completions", ex -> m.handle(ex, m::chat));
        s.createContext("/v1/embeddings", ex -> m.handle(ex, m::embeddings));
        s.createContext("/v1/messages", ex -> m.handle(ex, m::messages));
        s.createContext("/v1/models", m::models);
        s.createContext("/", ex -> m.error(ex, 404, "not_found", "no such endpoint: " + ex.getRequestURI().getPath()
                + " (this server answers POST /v1/chat/completions, /v1/embeddings, /v1/messages and GET /v1/models)"));
        s.start();
        return m;
    }

    /** On 127.0.0.1, a free port. */
    public static LocalModelServer start() {
        return start("127.0.0.1", 0);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** The base URL of an {@code openai} provider: {@code http://host:port/v1}. */
    public String openAiBaseUrl() {
        return anthropicBaseUrl() + "/v1";
    }

    /** The base URL of an {@code anthropic} provider: {@code http://host:port}. */
    public String anthropicBaseUrl() {
        String host = server.getAddress().getAddress().getHostAddress();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port();
    }

    /** From now on, requests without this key ({@code Authorization: Bearer} or {@code x-api-key}) get 401. */
    public LocalModelServer requireKey(String key) {
        requiredKey = Optional.of(key);
        return this;
    }

    /** The next {@code times} model requests answer {@code status} with a provider-shaped error (and Retry-After). */
    public void failNext(int times, int status, Optional<Duration> retryAfter) {
        for (int i = 0; i < times; i++) faults.add(new Fail(status, retryAfter));
    }

    /** The next {@code times} model requests are read and never answered, until the server closes. */
    public void hangNext(int times) {
        for (int i = 0; i < times; i++) faults.add(new Hang());
    }

    /** The next streaming request sends {@code afterPieces} pieces of its answer, then ends without finishing. */
    public void cutNextStream(int afterPieces) {
        faults.add(new Cut(afterPieces));
    }

    /** Model requests received (chat, embeddings, messages), faulty ones included. */
    public int requests() {
        return requests.get();
    }

    /** The credential the last model request carried ({@code Bearer} token or {@code x-api-key}); empty if none. */
    public Optional<String> lastKey() {
        return Optional.ofNullable(lastKey.get());
    }

    /** The JSON body of the last model request, as it arrived. */
    public Optional<JsonNode> lastRequest() {
        return Optional.ofNullable(lastRequest.get());
    }

    @Override
    public void close() {
        closing.countDown();
        server.stop(0);
        executor.shutdownNow();
    }

    // ---- endpoints ----

    private interface Endpoint {
        void answer(HttpExchange ex, ObjectNode body, Optional<Cut> cut) throws IOException;
    }

    private void handle(HttpExchange ex, Endpoint endpoint) throws IOException {
        try (ex) {
            if (!ex.getRequestMethod().equals("POST")) {
                error(ex, 405, "method_not_allowed", "use POST");
                return;
            }
            byte[] raw = ex.getRequestBody().readNBytes(MAX_REQUEST + 1);
            requests.incrementAndGet();
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            String key = auth != null && auth.startsWith("Bearer ") ? auth.substring(7) : ex.getRequestHeaders().getFirst("x-api-key");
            lastKey.set(key);
            if (raw.length > MAX_REQUEST) {
                error(ex, 413, "request_too_large", "the request is larger than " + MAX_REQUEST + " bytes");
                return;
            }
            JsonNode body;
            try {
                body = JSON.readTree(raw);
            } catch (JacksonException e) {
                error(ex, 400, "invalid_request_error", "the body is not JSON");
                return;
            }
            lastRequest.set(body);
            if (requiredKey.isPresent() && !requiredKey.get().equals(key)) {
                error(ex, 401, "authentication_error", "invalid API key");
                return;
            }
            Fault fault = faults.poll();
            if (fault instanceof Fail f) {
                f.retryAfter().ifPresent(d -> ex.getResponseHeaders().set("Retry-After", Long.toString(Math.max(0, d.toSeconds()))));
                error(ex, f.status(), f.status() == 429 ? "rate_limit_exceeded" : "server_error", "injected failure " + f.status());
                return;
            }
            if (fault instanceof Hang) {
                closing.await();
                return;
            }
            if (!body.isObject()) {
                error(ex, 400, "invalid_request_error", "the body must be a JSON object");
                return;
            }
            endpoint.answer(ex, (ObjectNode) body, fault instanceof Cut c ? Optional.of(c) : Optional.empty());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@code POST /v1/chat/completions}. */
    private void chat(HttpExchange ex, ObjectNode req, Optional<Cut> cut) throws IOException {
        JsonNode messages = req.path("messages");
        if (!req.path("model").isTextual() || !messages.isArray() || messages.isEmpty()) {
            error(ex, 400, "invalid_request_error", "model (a string) and messages (a non-empty array) are required");
            return;
        }
        String model = req.get("model").asText();
        Answer a = answer(lastUser(messages), maxTokens(req));
        long prompt = LlmCalls.promptTokens(messages);
        String id = "chatcmpl-local-" + ids.incrementAndGet();
        long created = System.currentTimeMillis() / 1000;
        ObjectNode usage = JSON.createObjectNode().put("prompt_tokens", prompt).put("completion_tokens", a.tokens())
                .put("total_tokens", prompt + a.tokens());
        if (!req.path("stream").asBoolean(false)) {
            ObjectNode out = JSON.createObjectNode().put("id", id).put("object", "chat.completion").put("created", created).put("model", model);
            ObjectNode choice = out.putArray("choices").addObject().put("index", 0);
            choice.putObject("message").put("role", "assistant").put("content", a.text());
            choice.putNull("logprobs");
            choice.put("finish_reason", a.finish());
            out.set("usage", usage);
            json(ex, 200, out);
            return;
        }
        ex.getResponseHeaders().set("Content-Type", "text/event-stream");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        ObjectNode first = chunk(id, created, model);
        first.withArray("choices").addObject().put("index", 0).putNull("finish_reason").putObject("delta").put("role", "assistant").put("content", "");
        event(out, null, first);
        int n = 0;
        for (String piece : LocalModels.pieces(a.text())) {
            if (cut.isPresent() && n++ >= cut.get().afterPieces()) return;
            ObjectNode c = chunk(id, created, model);
            c.withArray("choices").addObject().put("index", 0).putNull("finish_reason").putObject("delta").put("content", piece);
            event(out, null, c);
        }
        ObjectNode last = chunk(id, created, model);
        last.withArray("choices").addObject().put("index", 0).put("finish_reason", a.finish()).putObject("delta");
        event(out, null, last);
        if (req.path("stream_options").path("include_usage").asBoolean(false)) {
            ObjectNode u = chunk(id, created, model);
            u.putArray("choices");
            u.set("usage", usage);
            event(out, null, u);
        }
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** {@code POST /v1/embeddings}. */
    private void embeddings(HttpExchange ex, ObjectNode req, Optional<Cut> cut) throws IOException {
        JsonNode input = req.path("input");
        int dims = req.path("dimensions").asInt(DEFAULT_DIMENSIONS);
        if (!(input.isTextual() || input.isArray() && !input.isEmpty()) || dims < 1 || dims > 4096) {
            error(ex, 400, "invalid_request_error", "input (a string or an array of strings) is required; dimensions 1..4096");
            return;
        }
        ObjectNode out = JSON.createObjectNode().put("object", "list");
        ArrayNode data = out.putArray("data");
        long tokens = 0;
        int i = 0;
        for (JsonNode text : input.isArray() ? input : JSON.createArrayNode().add(input)) {
            String s = text.isTextual() ? text.asText() : text.toString();
            tokens += LlmCalls.tokens(s);
            ArrayNode vector = data.addObject().put("object", "embedding").put("index", i++).putArray("embedding");
            for (float f : LocalModels.embed(s, dims)) vector.add(f);
        }
        out.put("model", req.path("model").asText("local-embed"));
        out.putObject("usage").put("prompt_tokens", tokens).put("total_tokens", tokens);
        json(ex, 200, out);
    }

    /** Anthropic's {@code POST /v1/messages}. */
    private void messages(HttpExchange ex, ObjectNode req, Optional<Cut> cut) throws IOException {
        JsonNode messages = req.path("messages");
        if (ex.getRequestHeaders().getFirst("anthropic-version") == null) {
            anthropicError(ex, 400, "invalid_request_error", "anthropic-version: header is required");
            return;
        }
        if (!req.path("model").isTextual() || !messages.isArray() || messages.isEmpty() || !req.path("max_tokens").canConvertToInt()) {
            anthropicError(ex, 400, "invalid_request_error", "model, messages and max_tokens are required");
            return;
        }
        String model = req.get("model").asText();
        Answer a = answer(lastUser(messages), Optional.of(req.get("max_tokens").asLong()));
        long input = 0;
        JsonNode system = req.path("system");
        if (system.isTextual()) input += 3 + LlmCalls.tokens(system.asText());
        for (JsonNode m : messages) input += 3 + LlmCalls.tokens(LlmCalls.text(m));
        String id = "msg_local_" + ids.incrementAndGet();
        String stop = a.finish().equals("length") ? "max_tokens" : "end_turn";
        if (!req.path("stream").asBoolean(false)) {
            ObjectNode out = JSON.createObjectNode().put("id", id).put("type", "message").put("role", "assistant").put("model", model);
            out.putArray("content").addObject().put("type", "text").put("text", a.text());
            out.put("stop_reason", stop).putNull("stop_sequence");
            out.putObject("usage").put("input_tokens", input).put("output_tokens", a.tokens());
            json(ex, 200, out);
            return;
        }
        ex.getResponseHeaders().set("Content-Type", "text/event-stream");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        ObjectNode start = JSON.createObjectNode().put("type", "message_start");
        ObjectNode msg = start.putObject("message").put("id", id).put("type", "message").put("role", "assistant").put("model", model);
        msg.putArray("content");
        msg.putNull("stop_reason");
        msg.putObject("usage").put("input_tokens", input).put("output_tokens", 1);
        event(out, "message_start", start);
        ObjectNode blockStart = JSON.createObjectNode().put("type", "content_block_start").put("index", 0);
        blockStart.putObject("content_block").put("type", "text").put("text", "");
        event(out, "content_block_start", blockStart);
        event(out, "ping", JSON.createObjectNode().put("type", "ping"));
        int n = 0;
        for (String piece : LocalModels.pieces(a.text())) {
            if (cut.isPresent() && n++ >= cut.get().afterPieces()) return;
            ObjectNode d = JSON.createObjectNode().put("type", "content_block_delta").put("index", 0);
            d.putObject("delta").put("type", "text_delta").put("text", piece);
            event(out, "content_block_delta", d);
        }
        event(out, "content_block_stop", JSON.createObjectNode().put("type", "content_block_stop").put("index", 0));
        ObjectNode delta = JSON.createObjectNode().put("type", "message_delta");
        delta.putObject("delta").put("stop_reason", stop).putNull("stop_sequence");
        delta.putObject("usage").put("output_tokens", a.tokens());
        event(out, "message_delta", delta);
        event(out, "message_stop", JSON.createObjectNode().put("type", "message_stop"));
    }

    /** {@code GET /v1/models}: the names this server answers to (it answers to any). */
    private void models(HttpExchange ex) throws IOException {
        try (ex) {
            ex.getRequestBody().readAllBytes();
            ObjectNode out = JSON.createObjectNode().put("object", "list");
            for (String id : new String[] {"local-summarizer", "local-embed"})
                out.withArray("data").addObject().put("id", id).put("object", "model").put("owned_by", "aegis");
            json(ex, 200, out);
        }
    }

    // ---- helpers ----

    private record Answer(String text, long tokens, String finish) {}

    /** The summary, cut to {@code maxTokens} (4 characters each) with finish reason {@code length} when it is longer. */
    private static Answer answer(String prompt, Optional<Long> maxTokens) {
        String text = LocalModels.summarize(prompt, SENTENCES);
        if (maxTokens.isPresent() && LlmCalls.tokens(text) > maxTokens.get()) {
            text = text.substring(0, (int) Math.min(text.length(), Math.max(0, maxTokens.get()) * 4));
            return new Answer(text, LlmCalls.tokens(text), "length");
        }
        return new Answer(text, LlmCalls.tokens(text), "stop");
    }

    private static Optional<Long> maxTokens(JsonNode req) {
        JsonNode m = req.has("max_completion_tokens") ? req.get("max_completion_tokens") : req.get("max_tokens");
        return m != null && m.canConvertToLong() ? Optional.of(m.asLong()) : Optional.empty();
    }

    private static String lastUser(JsonNode messages) {
        for (int i = messages.size() - 1; i >= 0; i--)
            if (messages.get(i).path("role").asText().equals("user")) return LlmCalls.text(messages.get(i));
        return LlmCalls.text(messages.get(messages.size() - 1));
    }

    private static ObjectNode chunk(String id, long created, String model) {
        return JSON.createObjectNode().put("id", id).put("object", "chat.completion.chunk").put("created", created).put("model", model);
    }

    private static void event(OutputStream out, String name, JsonNode data) throws IOException {
        String text = (name == null ? "" : "event: " + name + "\n") + "data: " + JSON.writeValueAsString(data) + "\n\n";
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void json(HttpExchange ex, int status, JsonNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        ex.getResponseBody().write(bytes);
    }

    /** An OpenAI-shaped error; on {@code /v1/messages}, an Anthropic-shaped one. */
    private void error(HttpExchange ex, int status, String type, String message) throws IOException {
        if (ex.getRequestURI().getPath().startsWith("/v1/messages")) {
            anthropicError(ex, status, type, message);
            return;
        }
        ObjectNode e = JSON.createObjectNode();
        e.putObject("error").put("message", message).put("type", type).putNull("param").put("code", type);
        json(ex, status, e);
        ex.close();
    }

    private static void anthropicError(HttpExchange ex, int status, String type, String message) throws IOException {
        ObjectNode e = JSON.createObjectNode().put("type", "error");
        e.putObject("error").put("type", type).put("message", message);
        json(ex, status, e);
        ex.close();
    }
}
