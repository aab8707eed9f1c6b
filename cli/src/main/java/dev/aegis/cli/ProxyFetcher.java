package dev.aegis.cli;

import dev.aegis.core.HttpFetchTool;
import dev.aegis.core.Session;
import dev.aegis.core.EgressGrant;
import dev.aegis.security.EgressProxy;
import dev.aegis.security.FetchLimits;
import dev.aegis.security.FetchResult;
import java.net.URI;
import java.util.Optional;

/**
 * Plugs the egress proxy into the built-in {@code http.fetch} tool: each fetch goes out under the calling agent's
 * {@code permissions.network.egress}, with the proxy's checks (names, resolved IPs, ports, TLS) and its audit. Its
 * bytes count toward the calling instance's egress while the instance lives. Errors: {@code policy_denied} (the
 * proxy refused), {@code fetch_failed} (allowed, but no response: the proxy's reason), {@code invalid_request}.
 */
final class ProxyFetcher {
    private ProxyFetcher() {}

    static HttpFetchTool.Fetcher of(EgressProxy proxy) {
        return (Session s, HttpFetchTool.Request r) -> {
            URI uri;
            try {
                uri = URI.create(r.url());
            } catch (IllegalArgumentException e) {
                throw dev.aegis.core.AegisException.invalid("arguments.url", "\"" + r.url() + "\" is not a URL: " + e.getMessage());
            }
            EgressGrant grant = EgressGrant.of(s.tenant(), s.agent().name(), s.instance(),
                    () -> s.taskId().isEmpty() ? Optional.empty() : Optional.of(s.taskId()),
                    s.agent().manifest().permissions().network().egress());
            FetchResult f = proxy.fetch(grant, r.method(), uri, r.headers(), r.body(), new FetchLimits(r.maxBodyBytes(), r.timeout()));
            return new HttpFetchTool.Response(f.status(), f.headers(), f.body(), f.truncated());
        };
    }
}
