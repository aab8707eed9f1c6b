package dev.aegis.core;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.core.InvalidManifestException.Violation;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Checks a JSON Schema cannot express: values that must parse and be above zero, pool.warm <= pool.max, egress
 * hosts and ports, and filesystem grants that cannot reach the sandbox's plumbing. Each check looks only at
 * values of the right type, so a field the schema already rejected is not reported twice.
 */
final class ManifestRules {
    /** Kernel and AEGIS interfaces: granting them would hand the agent the host or its own sandbox controls. */
    private static final List<SandboxPath> FORBIDDEN =
            List.of("/proc", "/sys", "/dev", "/run/aegis").stream().map(SandboxPath::parse).toList();

    private final List<Violation> violations = new ArrayList<>();

    private ManifestRules() {}

    static List<Violation> check(JsonNode root) {
        ManifestRules rules = new ManifestRules();
        JsonNode resources = root.path("resources");
        rules.text(resources.path("memory"), "resources.memory", Quantities::bytes);
        rules.text(resources.path("disk"), "resources.disk", Quantities::bytes);
        rules.text(resources.path("timeout"), "resources.timeout", Quantities::duration);
        JsonNode pool = root.path("pool");
        int max = pool.path("max").isNumber() ? pool.path("max").asInt() : Manifest.Pool.DEFAULT.max();
        if (pool.path("warm").isNumber() && pool.path("warm").asInt() > max)
            rules.add("pool.warm", pool.path("warm").asInt() + " is more than pool.max (" + max
                    + "); warm instances count toward max");
        JsonNode permissions = root.path("permissions");
        rules.each(permissions.path("network").path("egress"), "permissions.network.egress", EgressRule::parse);
        rules.each(permissions.path("filesystem").path("read"), "permissions.filesystem.read", ManifestRules::grant);
        rules.each(permissions.path("filesystem").path("write"), "permissions.filesystem.write", ManifestRules::grant);
        rules.each(root.path("secrets"), "secrets", ManifestRules::secret);
        rules.each(permissions.path("bus").path("publish"), "permissions.bus.publish", s -> subject(s, true));
        rules.each(permissions.path("bus").path("subscribe"), "permissions.bus.subscribe", s -> subject(s, false));
        return rules.violations;
    }

    private static SandboxPath grant(String raw) {
        SandboxPath path;
        try {
            path = SandboxPath.parse(raw);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("\"" + raw + "\" " + e.getMessage() + "; use an absolute path such as /data/inbox");
        }
        if (!path.toString().equals(raw))
            throw new IllegalArgumentException("\"" + raw + "\" is not in normal form; write " + path);
        if (path.isRoot())
            throw new IllegalArgumentException("\"/\" would grant the whole sandbox; grant folders such as /data/inbox");
        for (SandboxPath forbidden : FORBIDDEN)
            if (path.isUnder(forbidden))
                throw new IllegalArgumentException("\"" + raw + "\" is under " + forbidden
                        + ", which cannot be granted; not allowed: /proc, /sys, /dev, /run/aegis");
        return path;
    }

    // The orchestrator sets AEGIS_* variables itself (AEGIS_TOKEN, ...); a secret must not shadow them.
    private static String secret(String name) {
        if (name.startsWith("AEGIS_"))
            throw new IllegalArgumentException("\"" + name + "\" is reserved; names starting with AEGIS_ belong to the platform");
        return name;
    }

    // Reply inboxes are handed out per request, never granted; task events are AEGIS's to publish.
    private static String subject(String grant, boolean publish) {
        if (grant.startsWith(Subjects.INBOX) || grant.equals("_inbox"))
            throw new IllegalArgumentException("\"" + grant + "\" is reserved: replies to a request need no grant");
        if (publish && (grant.startsWith(Subjects.EVENTS) || grant.equals("aegis")))
            throw new IllegalArgumentException("\"" + grant + "\" would let the agent publish under aegis., where only AEGIS "
                    + "publishes task events; grant subjects such as orders.> instead");
        return grant;
    }

    private void text(JsonNode value, String path, Function<String, ?> parse) {
        if (!value.isTextual()) return;
        try {
            parse.apply(value.asText());
        } catch (IllegalArgumentException e) {
            add(path, e.getMessage());
        }
    }

    private void each(JsonNode list, String path, Function<String, ?> parse) {
        if (!list.isArray()) return;
        for (int i = 0; i < list.size(); i++) text(list.get(i), path + "[" + i + "]", parse);
    }

    private void add(String path, String message) {
        violations.add(new Violation(path, message));
    }
}
