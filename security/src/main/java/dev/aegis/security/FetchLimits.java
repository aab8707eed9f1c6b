package dev.aegis.security;

import java.time.Duration;

/**
 * Bounds of one {@link EgressProxy#fetch}.
 *
 * @param maxBodyBytes response body bytes kept; a longer body is cut there and marked truncated
 * @param timeout      for the whole exchange, connect to last header byte
 */
public record FetchLimits(long maxBodyBytes, Duration timeout) {
    public static final FetchLimits DEFAULT = new FetchLimits(1 << 20, Duration.ofSeconds(30));

    public FetchLimits {
        if (maxBodyBytes < 0) throw new IllegalArgumentException("fetch maxBodyBytes: " + maxBodyBytes + " must be 0 or more");
        if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("fetch timeout: " + timeout + " must be above zero");
    }
}
