package dev.aegis.core;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The built-in tool {@code http.fetch}: one HTTP request for the agent, made by AEGIS through its egress proxy, so
 * the manifest's {@code permissions.network.egress} decides and audits it like the sandbox's own traffic. The
 * network side is a {@link Fetcher} (the node wires the egress proxy's).
 *
 * <p>Arguments: {@code url} (http or https, required), {@code method} (GET, HEAD, POST, PUT, PATCH, DELETE; default
 * GET), {@code headers} (an object of strings), {@code body} (a string, sent as UTF-8). Result: {@code status},
 * {@code headers} (lower-case names, lists of values), {@code body} (text, or base64 with {@code body_encoding:
 * "base64"} when it is not UTF-8), {@code truncated} (the body was cut at 1 MiB). Redirects come back as they are.
 */
public final class HttpFetchTool implements Tools {
    public static final String NAME = "http.fetch";
    public static final long MAX_BODY_BYTES = 1 << 20;
    public static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE");
    private static final Set<String> ARGUMENTS = Set.of("url", "method", "headers", "body");
    private static final Pattern URL = Pattern.compile("https?://[^\\s/?#@]+(?::\\d{1,5})?(?:[/?#]\\S*)?");

    /** The network side: the egress proxy's fetch, which checks the grant, connects, and audits the attempt. */
    @FunctionalInterface
    public interface Fetcher {
        /**
         * @throws AegisException {@code policy_denied} with the proxy's reason when the request may not go out;
         *                        {@code fetch_failed} saying why when it was allowed but got no response (the server
         *                        could not be reached, answered badly, or the time ran out)
         */
        Response fetch(Session session, Request request);
    }

    /** One request, checked for shape; the proxy checks where it may go. */
    public record Request(String method, String url, Map<String, String> headers, byte[] body, long maxBodyBytes, Duration timeout) {
        public Request {
            headers = Map.copyOf(headers);
        }
    }

    /** @param headers lower-case names; @param truncated the body was longer than {@link Request#maxBodyBytes} */
    public record Response(int status, Map<String, List<String>> headers, byte[] body, boolean truncated) {}

    private final Fetcher fetcher;

    public HttpFetchTool(Fetcher fetcher) {
        this.fetcher = fetcher;
    }

    @Override
    public List<String> names() {
        return List.of(NAME);
    }

    @Override
    public String call(Session session, String name, String arguments) {
        Request request = parse(arguments);
        Response r = fetcher.fetch(session, request);
        ObjectNode out = JSON.createObjectNode();
        out.put("status", r.status());
        ObjectNode headers = out.putObject("headers");
        r.headers().forEach((k, v) -> v.forEach(headers.withArray(k.toLowerCase(java.util.Locale.ROOT))::add));
        try {
            out.put("body", StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(r.body())).toString());
        } catch (CharacterCodingException e) {
            out.put("body", Base64.getEncoder().encodeToString(r.body()));
            out.put("body_encoding", "base64");
        }
        out.put("truncated", r.truncated());
        return out.toString();
    }

    static Request parse(String arguments) {
        JsonNode a;
        try {
            a = JSON.readTree(arguments);
        } catch (JacksonException e) {
            throw AegisException.invalid("arguments", "are not JSON: " + e.getOriginalMessage());
        }
        if (a == null || !a.isObject()) throw AegisException.invalid("arguments", "must be an object with url, method, headers, body");
        for (var it = a.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!ARGUMENTS.contains(f)) throw AegisException.invalid("arguments." + f, "is not an argument of http.fetch; use url, method, headers, body");
        }
        JsonNode url = a.get("url");
        if (url == null || !url.isTextual() || !URL.matcher(url.asText()).matches())
            throw AegisException.invalid("arguments.url", (url == null ? "is required" : url + " is not an http:// or https:// URL")
                    + " (e.g. https://api.example.com/v1/items)");
        String method = a.hasNonNull("method") ? a.get("method").asText() : "GET";
        if (!METHODS.contains(method)) throw AegisException.invalid("arguments.method", "\"" + method + "\" is not one of " + METHODS);
        Map<String, String> headers = new LinkedHashMap<>();
        JsonNode h = a.get("headers");
        if (h != null && !h.isNull()) {
            if (!h.isObject()) throw AegisException.invalid("arguments.headers", "must be an object of strings");
            for (var e : h.properties()) {
                if (!e.getValue().isTextual()) throw AegisException.invalid("arguments.headers." + e.getKey(), "must be a string");
                headers.put(e.getKey(), e.getValue().asText());
            }
        }
        JsonNode body = a.get("body");
        if (body != null && !body.isNull() && !body.isTextual()) throw AegisException.invalid("arguments.body", "must be a string");
        byte[] bytes = body == null || body.isNull() ? new byte[0] : body.asText().getBytes(StandardCharsets.UTF_8);
        return new Request(method, url.asText(), headers, bytes, MAX_BODY_BYTES, TIMEOUT);
    }
}
