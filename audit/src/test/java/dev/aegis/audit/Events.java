package dev.aegis.audit;

import dev.aegis.core.AuditEvent;
import dev.aegis.core.Decision;
import java.util.Map;

/** Realistic events for tests: each kind the issue lists, cycling by number. */
final class Events {
    private Events() {}

    static AuditEvent sample(long i) {
        String tenant = "tenant-" + (i % 3);
        return switch ((int) (i % 5)) {
            case 0 -> AuditEvent.of(tenant, "key:k" + (i % 7), "api.deploy", "agent:summarizer",
                    Map.of("version", "1.0." + i, "digest", "sha256:" + Long.toHexString(i * 7919)));
            case 1 -> AuditEvent.decided(tenant, "agent:inst-" + i, "policy.egress", "api.openai.com:443",
                    i % 2 == 0 ? Decision.ALLOW : Decision.deny("host not in permissions.network.egress"))
                    .withAgent("summarizer").withTask("task-" + i);
            case 2 -> AuditEvent.of(tenant, "system", "lifecycle.hot", "instance:inst-" + i, Map.of("from", "warm"))
                    .withTask("task-" + i).withAgent("summarizer");
            case 3 -> AuditEvent.of(tenant, "agent:inst-" + i, "secret.use", "OPENAI_API_KEY", Map.of())
                    .withAgent("summarizer");
            default -> AuditEvent.of(tenant, "system", "task.result", "task:task-" + i,
                    Map.of("sha256", "ab" + i, "note", "quotes \" and \\ and \n and é ✓")).withTask("task-" + i);
        };
    }
}
