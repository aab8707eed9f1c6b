package dev.aegis.security;

import java.util.List;
import java.util.Map;

/**
 * A response obtained by {@link EgressProxy#fetch}.
 *
 * @param status    the HTTP status (a redirect comes back as it is)
 * @param headers   response header fields, names in lower case
 * @param body      at most {@link FetchLimits#maxBodyBytes} bytes of the body
 * @param truncated whether the body was longer and was cut
 */
public record FetchResult(int status, Map<String, List<String>> headers, byte[] body, boolean truncated) {
    public FetchResult {
        headers = Map.copyOf(headers);
    }
}
