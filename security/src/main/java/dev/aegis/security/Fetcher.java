package dev.aegis.security;

import dev.aegis.core.EgressGrant;
import dev.aegis.core.AegisException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@link EgressProxy#fetch}: the JDK HTTP client, pointed at a loopback listener of the proxy that serves
 * only this call's grant and closes after it. So a fetch takes exactly the path of a sandbox's own request
 * (policy, SNI check for https, audit) and nothing here decides anything on its own.
 */
final class Fetcher {
    private final EgressProxy proxy;

    Fetcher(EgressProxy proxy) {
        this.proxy = proxy;
    }

    FetchResult fetch(EgressGrant grant, String method, URI uri, Map<String, String> headers, byte[] body, FetchLimits limits) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https"))
            throw AegisException.invalid("uri", Reasons.quote(uri.toString()) + " is not an http:// or https:// URL");
        HttpRequest request = request(method, uri, headers, body, limits);
        AtomicReference<String> denied = new AtomicReference<>();
        AtomicReference<String> failed = new AtomicReference<>();
        EgressProxy.Listener listener = proxy.listenLoopback(grant, denied::set, failed::set, true);
        try (HttpClient client = HttpClient.newBuilder()
                .proxy(ProxySelector.of(listener.address()))
                .sslContext(proxy.config().fetchTls())
                .followRedirects(HttpClient.Redirect.NEVER)
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(limits.timeout())
                .build()) {
            HttpResponse<InputStream> response;
            try {
                response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
            } catch (IOException e) {
                throw failure(denied, failed, uri, e);
            }
            // The proxy's own answer (403, 502, ...) is not the server's: the agent gets an error, not a response.
            if (denied.get() != null || failed.get() != null) throw failure(denied, failed, uri, null);
            byte[] kept;
            boolean truncated;
            try (InputStream in = response.body()) {
                byte[] read = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limits.maxBodyBytes() + 1));
                truncated = read.length > limits.maxBodyBytes();
                kept = truncated ? Arrays.copyOf(read, (int) limits.maxBodyBytes()) : read;
            } catch (IOException e) {
                throw failure(denied, failed, uri, e);
            }
            Map<String, List<String>> fields = new TreeMap<>();
            response.headers().map().forEach((k, v) -> fields.put(k.toLowerCase(Locale.ROOT), List.copyOf(v)));
            return new FetchResult(response.statusCode(), fields, kept, truncated);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AegisException("fetch_failed", "fetch " + uri + ": interrupted");
        } finally {
            listener.close();
        }
    }

    private static HttpRequest request(String method, URI uri, Map<String, String> headers, byte[] body, FetchLimits limits) {
        HttpRequest.Builder b;
        try {
            b = HttpRequest.newBuilder(uri).timeout(limits.timeout())
                    .method(method, body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        } catch (IllegalArgumentException e) {
            throw AegisException.invalid("method", Reasons.quote(method) + " is not an HTTP method (" + e.getMessage() + ")");
        }
        headers.forEach((name, value) -> {
            try {
                b.header(name, value);
            } catch (IllegalArgumentException e) {
                throw AegisException.invalid("headers", Reasons.quote(name) + " cannot be set (" + e.getMessage()
                        + "); not allowed: connection, content-length, expect, host, upgrade");
            }
        });
        return b.build();
    }

    /** A denial ({@code policy_denied}) or any other failure ({@code fetch_failed}), with the proxy's words when it has them. */
    private static AegisException failure(AtomicReference<String> denied, AtomicReference<String> failed, URI uri, Exception e) {
        if (denied.get() != null) return AegisException.denied("egress " + uri.getHost() + ": " + denied.get());
        String why = failed.get() != null ? failed.get() : ClientConnection.message(e);
        return new AegisException("fetch_failed", "fetch " + Reasons.clip(uri.toString()) + ": " + why);
    }
}
