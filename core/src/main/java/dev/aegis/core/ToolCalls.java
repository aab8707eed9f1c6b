package dev.aegis.core;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The one path of every tool call: checked against the agent's manifest ({@link Policy#tool}) before anything leaves
 * AEGIS, and audited whatever the answer. Each call is a {@code tool.call} record (tool, SHA-256 and size of the
 * arguments, decision, reason) written before the call goes out; an allowed call then gets a {@code tool.result}
 * record (outcome, duration, SHA-256 and size of the result). Arguments and results themselves are never recorded in
 * the audit log; a result is handed to {@link Memory}, which remembers it with the task's other output.
 */
public final class ToolCalls {
    private final List<Tools> providers;
    private final AuditLog audit;
    private final Memory memory;

    public ToolCalls(List<Tools> providers, AuditLog audit) {
        this(providers, audit, Memory.NONE);
    }

    /** With {@code memory}, each result is also handed to it, to be remembered with its task when the task ends. */
    public ToolCalls(List<Tools> providers, AuditLog audit, Memory memory) {
        this.providers = List.copyOf(providers);
        this.audit = audit;
        this.memory = memory;
    }

    /**
     * @throws AegisException {@code policy_denied} with the reason when the manifest does not grant the tool or no
     *                        provider offers it; whatever the provider throws otherwise
     */
    public String call(Session s, String name, String arguments) {
        long t0 = System.nanoTime();
        Map<String, String> args = Map.of("args_sha256", Hashes.sha256(arguments),
                "args_bytes", Integer.toString(arguments.getBytes(StandardCharsets.UTF_8).length));
        Decision d = s.policy().tool(name);
        Optional<Tools> provider = Optional.empty();
        Optional<Tools.Tool> tool = Optional.empty();
        AegisException refused = null;
        if (d.allowed()) {
            for (Tools p : providers) {
                try {
                    tool = p.find(s, name);
                } catch (AegisException e) {
                    // The server that offers it cannot start: audited like a refusal, answered with the server's error.
                    refused = e;
                    d = Decision.deny(e.getMessage());
                    break;
                }
                if (tool.isPresent()) {
                    provider = Optional.of(p);
                    break;
                }
            }
            if (refused != null) {
                // decided above
            } else if (provider.isEmpty())
                d = Decision.deny("tool \"" + name + "\" is granted by the manifest but no tool server offers it here; "
                        + "offered: " + offered(s));
            else {
                // Arguments that do not match the tool's schema never reach its server either.
                refused = ToolArguments.check(tool.get(), arguments).orElse(null);
                if (refused != null) d = Decision.deny(refused.getMessage());
            }
        }
        audit.append(event(s, "tool.call", name, d).withDetails(args).withDetails(Map.of("duration_ms", millis(t0))));
        if (refused != null) throw refused;
        if (d instanceof Decision.Deny(String reason)) throw AegisException.denied(reason);
        Map<String, String> outcome = new LinkedHashMap<>();
        try {
            String result = provider.get().call(s, name, arguments);
            outcome.put("outcome", "ok");
            outcome.put("result_sha256", Hashes.sha256(result));
            outcome.put("result_bytes", Integer.toString(result.getBytes(StandardCharsets.UTF_8).length));
            if (!s.taskId().isEmpty()) memory.toolOutput(s.tenant(), s.taskId(), name, arguments, result);
            return result;
        } catch (AegisException e) {
            outcome.put("outcome", "error");
            outcome.put("error", e.code());
            throw e;
        } catch (RuntimeException e) {
            outcome.put("outcome", "error");
            outcome.put("error", "internal_error");
            throw e;
        } finally {
            outcome.put("duration_ms", millis(t0));
            audit.append(event(s, "tool.result", name, null).withDetails(outcome));
        }
    }

    /** The tools this agent may call here, with their input schemas: offered by a provider and granted by its manifest. */
    public List<Tools.Tool> list(Session s) {
        List<Tools.Tool> tools = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Tools p : providers)
            for (Tools.Tool t : p.tools(s)) if (s.policy().tool(t.name()).allowed() && seen.add(t.name())) tools.add(t);
        return tools;
    }

    private List<String> offered(Session s) {
        List<String> all = new ArrayList<>();
        for (Tools p : providers) for (Tools.Tool t : p.tools(s)) all.add(t.name());
        return all.size() > 20 ? List.copyOf(all.subList(0, 20)) : all;
    }

    /** A decision record, or (with {@code d} null) a plain one. */
    private static AuditEvent event(Session s, String action, String tool, Decision d) {
        String actor = "agent:" + (s.instance() == null ? "-" : s.instance().value());
        AuditEvent e = (d == null ? AuditEvent.of(s.tenant(), actor, action, "tool:" + tool, Map.of())
                : AuditEvent.decided(s.tenant(), actor, action, "tool:" + tool, d)).withAgent(s.agent().name());
        return s.taskId().isEmpty() ? e : e.withTask(s.taskId());
    }

    private static String millis(long t0) {
        return String.format(java.util.Locale.ROOT, "%.3f", (System.nanoTime() - t0) / 1e6);
    }
}
