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
 */
public record ApiConfig(String host, int port, long maxBodyBytes, List<Path> deployRoots, Duration maxWait) {
    public static final long DEFAULT_MAX_BODY = 16L << 20;

    public ApiConfig {
        deployRoots = List.copyOf(deployRoots);
    }
}
