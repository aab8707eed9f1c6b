package dev.aegis.llm;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aegis.core.AegisException;
import dev.aegis.core.LlmProvider;
import dev.aegis.core.LlmUpstream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Forwards OpenAI-shaped calls to a tenant's provider over the JDK HTTP client: an OpenAI-compatible base URL as it
 * is, Anthropic's Messages API through {@link Anthropic}. The key goes into {@code Authorization: Bearer} (OpenAI) or
 * {@code x-api-key} (Anthropic) and nowhere else; every text that comes back from the provider is scrubbed of it
 * before it can reach an error message.
 *
 * <p>Failures: 429 and 5xx (and a connection that cannot be made) are retried with exponential back-off and jitter,
 * honouring {@code Retry-After} (and {@code retry-after-ms}) up to {@link Config#maxRetryWait}; a stream is retried
 * only until its first chunk has gone to the caller. What is left becomes {@code llm_upstream_error} (502), or
 * {@code llm_invalid_request} (400) when the provider refused the request itself (400, 404, 413, 422), or
 * {@code llm_timeout} (504) when it did not answer in time. Redirects are never followed, so the key cannot be
 * sent on to another host.
 */
public final class LlmGateway implements LlmUpstream {
    /**
     * @param connectTimeout opening a connection to the provider
     * @param timeout        a whole non-streaming call, retries included; for a stream, until its response headers
     * @param streamIdle     a stream that sends nothing (not even a keep-alive comment) for this long is cut
     * @param maxRetries     retries after the first attempt, for 429, 5xx and refused connections
     * @param backoff        the first retry's wait; doubled each time, with jitter, capped at {@code maxRetryWait}
     * @param maxRetryWait   the longest wait before a retry: a provider asking for longer gets no retry
     */
    public record Config(Duration connectTimeout, Duration timeout, Duration streamIdle, int maxRetries, Duration backoff,
                         Duration maxRetryWait) {
        public static final Config DEFAULT = new Config(Duration.ofSeconds(10), Duration.ofSeconds(120), Duration.ofSeconds(60), 3,
                Duration.ofMillis(250), Duration.ofSeconds(20));

        public Config {
            for (Duration d : List.of(connectTimeout, timeout, streamIdle, backoff, maxRetryWait))
                if (d.isNegative() || d.isZero()) throw new IllegalArgumentException("LLM gateway durations must be positive: " + d);
            if (maxRetries < 0) throw new IllegalArgumentException("maxRetries must be >= 0: " + maxRetries);
        }

        public Config withTimeout(Duration t) {
            return new Config(connectTimeout, t, streamIdle, maxRetries, backoff, maxRetryWait);
        }

        public Config withStreamIdle(Duration idle) {
            return new Config(connectTimeout, timeout, idle, maxRetries, backoff, maxRetryWait);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The largest answer read from a provider: a big batch of embeddings fits. */
    private static final int MAX_BODY = 64 * 1024 * 1024;
    private static final int MAX_ERROR_BODY = 64 * 1024;

    private final Config config;
    private final HttpClient http;

    public LlmGateway(Config config) {
        this.config = config;
        this.http = HttpClient.newBuilder().connectTimeout(config.connectTimeout()).version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER).executor(Executors.newVirtualThreadPerTaskExecutor()).build();
    }

    public Config config() {
        return config;
    }

    @Override
    public ObjectNode chat(LlmProvider p, String key, ObjectNode request) {
        ObjectNode body = request.deepCopy();
        body.remove("stream_options");
        body.put("stream", false);
        boolean anthropic = p.kind() == LlmProvider.Kind.ANTHROPIC;
        JsonNode answer = call(p, key, anthropic ? Anthropic.request(body) : body);
        return anthropic ? Anthropic.response(answer) : object(answer, p);
    }

    @Override
    public ObjectNode embeddings(LlmProvider p, String key, ObjectNode request) {
        if (p.kind() == LlmProvider.Kind.ANTHROPIC)
            throw new AegisException("not_available", "the tenant's LLM provider (anthropic) has no embeddings API");
        return object(call(p, key, request), p);
    }

    @Override
    public void stream(LlmProvider p, String key, ObjectNode request, Chunks chunks) {
        boolean anthropic = p.kind() == LlmProvider.Kind.ANTHROPIC;
        ObjectNode body = request.deepCopy();
        body.put("stream", true);
        long deadline = System.nanoTime() + config.timeout().toNanos();
        Exchange x = send(p, key, anthropic ? Anthropic.request(body) : body, true, deadline);
        Sse events = new Sse(x.body, config.streamIdle().toNanos());
        Anthropic.Stream translated = anthropic ? new Anthropic.Stream(chunks) : null;
        boolean done = false;
        try {
            for (Sse.Event e; (e = events.next()) != null; ) {
                if (!anthropic && e.data().strip().equals("[DONE]")) {
                    done = true;
                    break;
                }
                JsonNode data = parse(e.data(), p, key);
                if (anthropic) {
                    translated.event(e.name(), data);
                    if (translated.stopped()) {
                        done = true;
                        break;
                    }
                } else {
                    if (data.has("error"))
                        throw new AegisException("llm_upstream_error", describe(p) + " failed mid-stream: " + scrub(message(data, e.data()), key));
                    if (!data.isObject()) throw malformed(p, "a stream event that is not a JSON object");
                    chunks.chunk((ObjectNode) data);
                }
            }
            if (!done) throw new AegisException("llm_upstream_error", describe(p) + " ended its stream before it was complete"
                    + (anthropic ? " (no message_stop)" : " (no [DONE])"));
            if (!x.body.drain(System.nanoTime() + 1_000_000_000L, 64 * 1024)) x.body.cancel();
        } catch (BodyReader.Timeout e) {
            x.body.cancel();
            throw new AegisException("llm_timeout", describe(p) + " sent nothing for " + seconds(config.streamIdle()) + " in the middle of a stream");
        } catch (IOException e) {
            x.body.cancel();
            throw new AegisException("llm_upstream_error", describe(p) + ": the stream broke: " + scrub(String.valueOf(e.getMessage()), key));
        } catch (InterruptedException e) {
            x.body.cancel();
            Thread.currentThread().interrupt();
            throw new AegisException("llm_timeout", "interrupted while streaming from " + describe(p));
        } catch (RuntimeException e) {
            x.body.cancel(); // the caller stopped the stream (its budget, its client gone): the provider stops with it
            throw e;
        }
    }

    /** A non-streaming call: its JSON answer, within {@link Config#timeout} from now, retries included. */
    private JsonNode call(LlmProvider p, String key, ObjectNode body) {
        long deadline = System.nanoTime() + config.timeout().toNanos();
        Exchange x = send(p, key, body, false, deadline);
        try {
            byte[] bytes = x.body.all(deadline, MAX_BODY + 1);
            if (bytes.length > MAX_BODY) throw malformed(p, "an answer larger than " + MAX_BODY + " bytes");
            return parse(new String(bytes, StandardCharsets.UTF_8), p, key);
        } catch (BodyReader.Timeout e) {
            throw new AegisException("llm_timeout", describe(p) + " did not finish its answer within " + seconds(config.timeout()));
        } catch (IOException e) {
            throw new AegisException("llm_upstream_error", describe(p) + ": reading the answer failed: " + scrub(String.valueOf(e.getMessage()), key));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AegisException("llm_timeout", "interrupted while waiting for " + describe(p));
        } finally {
            x.body.cancel();
        }
    }

    /** A response whose status was 2xx, its body still to be read. */
    private record Exchange(HttpResponse<?> response, BodyReader body) {}

    /** Sends until a 2xx arrives, retrying what may be retried; everything else becomes an {@link AegisException}. */
    private Exchange send(LlmProvider p, String key, ObjectNode body, boolean stream, long deadline) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (JacksonException e) {
            throw new IllegalStateException(e);
        }
        String what = describe(p);
        for (int attempt = 1; ; attempt++) {
            long left = deadline - System.nanoTime();
            if (left <= 0) throw new AegisException("llm_timeout", what + " did not answer within " + seconds(config.timeout())
                    + (attempt > 1 ? " (" + (attempt - 1) + " attempts)" : ""));
            HttpRequest req = request(p, key, path(p, body), bytes, stream).timeout(Duration.ofNanos(left)).build();
            CompletableFuture<HttpResponse<Flow.Publisher<List<ByteBuffer>>>> f = http.sendAsync(req, HttpResponse.BodyHandlers.ofPublisher());
            HttpResponse<Flow.Publisher<List<ByteBuffer>>> r;
            String failure;
            try {
                r = f.get(left + 50_000_000L, TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                f.cancel(true);
                throw new AegisException("llm_timeout", what + " did not answer within " + seconds(config.timeout()));
            } catch (InterruptedException e) {
                f.cancel(true);
                Thread.currentThread().interrupt();
                throw new AegisException("llm_timeout", "interrupted while waiting for " + what);
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof HttpTimeoutException && !(cause instanceof HttpConnectTimeoutException))
                    throw new AegisException("llm_timeout", what + " did not answer within " + seconds(config.timeout()));
                failure = cause instanceof ConnectException || cause instanceof HttpConnectTimeoutException
                        ? "cannot connect (" + cause.getClass().getSimpleName() + ")"
                        : "the request failed: " + scrub(String.valueOf(cause.getMessage()), key);
                if (attempt > config.maxRetries())
                    throw new AegisException("llm_upstream_error", what + ": " + failure + attempts(attempt));
                pause(backoff(attempt), deadline, what, failure, attempt);
                continue;
            }
            BodyReader reader = new BodyReader();
            r.body().subscribe(reader);
            int status = r.statusCode();
            if (status / 100 == 2) return new Exchange(r, reader);
            String problem = errorText(reader, deadline, key);
            reader.cancel();
            String answered = what + " answered " + status + ": " + problem;
            boolean retryable = status == 429 || status >= 500;
            if (!retryable) {
                boolean refused = status == 400 || status == 404 || status == 413 || status == 422;
                throw new AegisException(refused ? "llm_invalid_request" : "llm_upstream_error", answered
                        + (status == 401 || status == 403 ? " (check the key in tenant secret " + p.keySecret() + ")" : ""));
            }
            if (attempt > config.maxRetries()) throw new AegisException("llm_upstream_error", answered + attempts(attempt));
            Optional<Duration> asked = retryAfter(r);
            if (asked.isPresent() && asked.get().compareTo(config.maxRetryWait()) > 0)
                throw new AegisException("llm_upstream_error", answered + "; it asks to retry after " + seconds(asked.get())
                        + ", longer than AEGIS waits (" + seconds(config.maxRetryWait()) + ")");
            pause(asked.orElse(backoff(attempt)), deadline, what, "answered " + status, attempt);
        }
    }

    private HttpRequest.Builder request(LlmProvider p, String key, String path, byte[] body, boolean stream) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(p.baseUrl() + path))
                .header("Content-Type", "application/json")
                .header("Accept", stream ? "text/event-stream" : "application/json")
                .header("User-Agent", "aegis-llm-gateway/0.1")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (p.kind() == LlmProvider.Kind.ANTHROPIC) b.header("x-api-key", key).header("anthropic-version", Anthropic.VERSION);
        else b.header("Authorization", "Bearer " + key);
        return b;
    }

    private static String path(LlmProvider p, ObjectNode body) {
        if (p.kind() == LlmProvider.Kind.ANTHROPIC) return "/v1/messages";
        return body.has("messages") ? "/chat/completions" : "/embeddings";
    }

    /** Waits before a retry, unless the wait would pass the call's deadline (then the failure is final). */
    private void pause(Duration wait, long deadline, String what, String failure, int attempt) {
        if (System.nanoTime() + wait.toNanos() >= deadline)
            throw new AegisException("llm_upstream_error", what + ": " + failure + attempts(attempt)
                    + "; no time left to retry within " + seconds(config.timeout()));
        try {
            Thread.sleep(wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AegisException("llm_timeout", "interrupted while waiting to retry " + what);
        }
    }

    /** {@code backoff * 2^(attempt-1)}, capped, with full jitter over its upper half so that callers spread out. */
    private Duration backoff(int attempt) {
        long base = config.backoff().toNanos() << Math.min(attempt - 1, 20);
        long capped = Math.min(base, config.maxRetryWait().toNanos());
        return Duration.ofNanos(capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1));
    }

    /** {@code retry-after-ms}, else {@code Retry-After} in seconds or as an HTTP date. */
    static Optional<Duration> retryAfter(HttpResponse<?> r) {
        Optional<String> ms = r.headers().firstValue("retry-after-ms");
        try {
            if (ms.isPresent()) return Optional.of(Duration.ofNanos((long) (Double.parseDouble(ms.get().strip()) * 1e6)));
        } catch (NumberFormatException e) {
            // fall back to Retry-After
        }
        Optional<String> v = r.headers().firstValue("retry-after");
        if (v.isEmpty()) return Optional.empty();
        String s = v.get().strip();
        try {
            double secs = Double.parseDouble(s);
            return secs < 0 ? Optional.empty() : Optional.of(Duration.ofNanos((long) (secs * 1e9)));
        } catch (NumberFormatException e) {
            try {
                Duration d = Duration.between(java.time.Instant.now(), ZonedDateTime.parse(s, DateTimeFormatter.RFC_1123_DATE_TIME));
                return Optional.of(d.isNegative() ? Duration.ZERO : d);
            } catch (java.time.format.DateTimeParseException bad) {
                return Optional.empty();
            }
        }
    }

    /** The provider's own words about an error: {@code error.message} of either shape, else the start of its body. */
    private static String errorText(BodyReader body, long deadline, String key) {
        String raw;
        try {
            raw = new String(body.all(Math.min(deadline, System.nanoTime() + 5_000_000_000L), MAX_ERROR_BODY), StandardCharsets.UTF_8);
        } catch (IOException | InterruptedException e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            return "(no readable body)";
        }
        String text;
        try {
            text = message(JSON.readTree(raw), raw);
        } catch (JacksonException e) {
            text = raw;
        }
        text = text.strip().replaceAll("\\s+", " ");
        return scrub(text.length() > 500 ? text.substring(0, 500) + "…" : text.isEmpty() ? "(empty body)" : text, key);
    }

    private static String message(JsonNode error, String raw) {
        JsonNode e = error.path("error");
        if (e.isTextual()) return e.asText();
        if (e.path("message").isTextual()) return e.path("message").asText();
        if (error.path("message").isTextual()) return error.path("message").asText();
        return raw;
    }

    /** Never let the key out through a provider's echo of it, whole or in part. */
    static String scrub(String text, String key) {
        if (key == null || key.length() < 4) return text;
        String s = text.replace(key, "[key]");
        // Providers often echo a masked key: keep its shape from revealing more than 4 characters at either end.
        if (key.length() >= 16) s = s.replace(key.substring(0, key.length() - 4), "[key]").replace(key.substring(4), "[key]");
        return s;
    }

    private static JsonNode parse(String text, LlmProvider p, String key) {
        try {
            return JSON.readTree(text);
        } catch (JacksonException e) {
            String start = text.length() > 200 ? text.substring(0, 200) + "…" : text;
            throw malformed(p, "something that is not JSON: " + scrub(start, key));
        }
    }

    private static ObjectNode object(JsonNode n, LlmProvider p) {
        if (!n.isObject()) throw malformed(p, "an answer that is not a JSON object");
        return (ObjectNode) n;
    }

    private static AegisException malformed(LlmProvider p, String what) {
        return new AegisException("llm_upstream_error", describe(p) + " sent " + what);
    }

    private static String describe(LlmProvider p) {
        return "the LLM provider (" + p.kind().wire() + " at " + p.endpoint() + ")";
    }

    private static String attempts(int n) {
        return n > 1 ? " (after " + n + " attempts)" : "";
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }
}
