package dev.aegis.api;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Settings of the public HTTP API.
 *
 * @param maxBodyBytes largest accepted request body (a tar.gz upload included); larger gets 413
 * @param deployRoots  host folders an admin may deploy agents from by path; empty means upload only
 * @param maxWait      longest a synchronous task submission may hold the request open
 * @param rateLimits   token buckets per key and per tenant by route class ({@code deploy}, {@code run}, {@code read})
 * @param metricsToken a bearer token that may read {@code /metrics} (a scraper's, not an API key); admin keys may too
 * @param transport    HTTP or HTTPS, and the timeouts of every connection
 */
public record ApiConfig(String host, int port, long maxBodyBytes, List<Path> deployRoots, Duration maxWait,
                        RateLimits.Config rateLimits, java.util.Optional<String> metricsToken, Transport transport) {
    public static final long DEFAULT_MAX_BODY = 16L << 20;

    public ApiConfig {
        deployRoots = List.copyOf(deployRoots);
    }
}
