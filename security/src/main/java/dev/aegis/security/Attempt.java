package dev.aegis.security;

import dev.aegis.core.EgressGrant;
import dev.aegis.core.AuditDecision;
import dev.aegis.core.AuditEvent;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What the proxy learns about one egress attempt (a CONNECT tunnel or one forwarded request) while handling
 * it; becomes its single audit event: {@code egress.connect} or {@code egress.request}, target {@code host:port},
 * the decision and reason, and details ip, port, bytes_up, bytes_down, method, scheme (plus status, sni or
 * error when known).
 */
final class Attempt {
    static final String CONNECT = "egress.connect";
    static final String REQUEST = "egress.request";

    final String action;
    final String method;
    final Optional<String> task;
    String target = "";
    String scheme;
    String ip = "";
    int port;
    long up;
    long down;
    private final Map<String, String> extra = new TreeMap<>();

    Attempt(String action, String method, String scheme, Optional<String> task) {
        this.action = action;
        this.method = Reasons.clip(method);
        this.scheme = scheme;
        this.task = task;
    }

    Attempt detail(String key, String value) {
        extra.put(key, Reasons.clip(value));
        return this;
    }

    AuditEvent event(EgressGrant grant, AuditDecision decision, String reason) {
        Map<String, String> details = new TreeMap<>(extra);
        details.put("ip", ip);
        details.put("port", port == 0 ? "" : Integer.toString(port));
        details.put("bytes_up", Long.toString(up));
        details.put("bytes_down", Long.toString(down));
        details.put("method", method);
        details.put("scheme", scheme);
        return new AuditEvent(grant.tenant(), "agent:" + grant.instance(), Optional.of(grant.agent()), task, action,
                Reasons.clip(target), decision, reason, details);
    }
}
