package dev.aegis.core;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;

/**
 * Tenant secrets as the API and the orchestrator use them: names and values checked, every change audited by
 * name and action (never the value), and the values of an agent's {@code secrets:} resolved for its sandbox.
 */
public final class Secrets {
    /** The manifest's rule: what an environment variable name may be, minus the platform's own AEGIS_ names. */
    private static final Pattern NAME = Pattern.compile("[A-Z][A-Z0-9_]{0,127}");
    /** One environment string may hold 128 KiB (MAX_ARG_STRLEN); half leaves room for the rest. */
    public static final int MAX_VALUE_BYTES = 64 * 1024;
    /** Shorter values would be scrubbed out of every log line they happen to match (e.g. "1", "yes"). */
    public static final int MIN_VALUE_CHARS = 4;

    private final SecretStore store;
    private final AuditLog audit;
    private final Clock clock;
    private final BiConsumer<String, String> changed;

    /** @param changed told (tenant, name) after a secret was set or deleted, so live sandboxes holding it can go */
    Secrets(SecretStore store, AuditLog audit, Clock clock, BiConsumer<String, String> changed) {
        this.store = store;
        this.audit = audit;
        this.clock = clock;
        this.changed = changed;
    }

    /** Sets (creates or replaces) a secret; returns whether it was created. */
    public boolean set(String tenant, String name, String value) {
        checkName(name);
        if (value == null || value.isEmpty()) throw AegisException.invalid("value", "is required: a non-empty string");
        if (value.indexOf('\0') >= 0) throw AegisException.invalid("value", "contains a NUL character, which an environment variable cannot hold");
        if (value.length() < MIN_VALUE_CHARS)
            throw AegisException.invalid("value", "is " + value.length() + " characters; a secret needs at least " + MIN_VALUE_CHARS
                    + ", or scrubbing it from logs would mangle ordinary text");
        int bytes = value.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (bytes > MAX_VALUE_BYTES)
            throw AegisException.invalid("value", "is " + bytes + " bytes; at most " + MAX_VALUE_BYTES + " are allowed");
        boolean existed = store.list(tenant).stream().anyMatch(i -> i.name().equals(name));
        // Audit first (the durability rule): the name and what happened, never the value or a hash of it.
        audit.append(AuditEvent.of(tenant, Orchestrator.actor(), "secret.set", "secret:" + name,
                Map.of("created", Boolean.toString(!existed))));
        store.put(tenant, name, value, clock.instant());
        changed.accept(tenant, name);
        return !existed;
    }

    public void delete(String tenant, String name) {
        checkName(name);
        if (store.list(tenant).stream().noneMatch(i -> i.name().equals(name)))
            throw AegisException.notFound("secret \"" + name + "\" does not exist");
        audit.append(AuditEvent.of(tenant, Orchestrator.actor(), "secret.delete", "secret:" + name, Map.of()));
        store.delete(tenant, name);
        changed.accept(tenant, name);
    }

    public List<SecretStore.Info> list(String tenant) {
        return store.list(tenant);
    }

    /** The names of {@code names} that {@code tenant} has no secret for, in manifest order. */
    List<String> missing(String tenant, List<String> names) {
        if (names.isEmpty()) return List.of();
        List<String> have = store.list(tenant).stream().map(SecretStore.Info::name).toList();
        List<String> missing = new ArrayList<>();
        for (String n : names) if (!have.contains(n)) missing.add(n);
        return missing;
    }

    /**
     * The values of {@code agent}'s {@code secrets:}, for its sandbox.
     *
     * @throws AegisException {@code secret_missing} naming every secret that does not exist (deleted since deploy)
     */
    InjectedSecrets inject(Agent agent) {
        List<String> names = agent.manifest().secrets();
        if (names.isEmpty()) return InjectedSecrets.NONE;
        Map<String, String> values = store.reveal(agent.tenant(), names);
        List<String> missing = names.stream().filter(n -> !values.containsKey(n)).toList();
        if (!missing.isEmpty()) throw missingError(agent.tenant(), missing);
        return new InjectedSecrets(values);
    }

    static AegisException missingError(String tenant, List<String> names) {
        return new AegisException("secret_missing", "secrets: " + String.join(", ", names) + (names.size() == 1 ? " does" : " do")
                + " not exist in tenant " + tenant + "; set " + (names.size() == 1 ? "it" : "them") + " first with `aegis secrets set "
                + names.getFirst() + "` (PUT /v1/secrets/" + names.getFirst() + ")", "secrets");
    }

    static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches())
            throw AegisException.invalid("name", "\"" + name + "\" is not a secret name; use UPPER_SNAKE_CASE such as "
                    + "OPENAI_API_KEY (A-Z, 0-9, _; starting with a letter; at most 128 characters)");
        if (name.startsWith("AEGIS_"))
            throw AegisException.invalid("name", "\"" + name + "\" is reserved; names starting with AEGIS_ belong to the platform");
    }
}
