package dev.aegis.api;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.core.Agent;
import dev.aegis.core.LogLine;
import dev.aegis.core.Manifest;
import dev.aegis.core.Orchestrator;
import dev.aegis.core.Task;
import dev.aegis.core.Transition;
import dev.aegis.core.Usage;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** JSON shapes of the public API (snake_case), built explicitly so the wire format never drifts by accident. */
final class Views {
    private Views() {}

    static Map<String, Object> agent(Agent a) {
        Manifest m = a.manifest();
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("name", m.name());
        v.put("version", m.version());
        v.put("runtime", m.runtime());
        v.put("entrypoint", m.entrypoint());
        v.put("digest", a.digest());
        v.put("deployed_at", a.deployedAt().toString());
        v.put("resources", resources(m.resources()));
        v.put("manifest", a.manifestYaml());
        return v;
    }

    static Map<String, Object> resources(Manifest.Resources r) {
        return Map.of("cpu", r.cpu(), "memory_bytes", r.memoryBytes(), "pids", r.pids(), "disk_bytes", r.diskBytes(),
                "timeout_ms", r.timeout().toMillis());
    }

    static Map<String, Object> task(Task t, List<Transition> transitions) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("id", t.id());
        v.put("agent", t.agent());
        v.put("state", t.state().name().toLowerCase());
        v.put("input", json(t.input()));
        t.result().ifPresent(r -> v.put("result", json(r)));
        t.error().ifPresent(e -> v.put("error", Map.of("code", e.code(), "message", e.message())));
        t.exitCode().ifPresent(c -> v.put("exit_code", c));
        v.put("created_at", t.createdAt().toString());
        t.startedAt().ifPresent(s -> v.put("started_at", s.toString()));
        t.finishedAt().ifPresent(f -> v.put("finished_at", f.toString()));
        t.finishedAt().ifPresent(f -> v.put("duration_ms", Duration.between(t.createdAt(), f).toMillis()));
        t.usage().ifPresent(u -> v.put("usage", usage(u)));
        t.parent().ifPresent(p -> v.put("parent", p));
        if (!transitions.isEmpty()) v.put("lifecycle", lifecycle(transitions));
        return v;
    }

    static List<Map<String, Object>> lifecycle(List<Transition> transitions) {
        Instant start = transitions.getFirst().at();
        return transitions.stream().map(tr -> {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("state", tr.to().name().toLowerCase());
            s.put("at", tr.at().toString());
            s.put("after_ms", Duration.between(start, tr.at()).toMillis());
            if (!tr.instanceId().isEmpty()) s.put("instance", tr.instanceId());
            s.put("reason", tr.reason());
            return s;
        }).toList();
    }

    static Map<String, Object> instance(Orchestrator.InstanceView i) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("id", i.id());
        v.put("agent", i.agent());
        v.put("runtime", i.runtime());
        v.put("state", i.state().name().toLowerCase());
        i.taskId().ifPresent(t -> v.put("task", t));
        i.usage().ifPresent(u -> v.put("usage", usage(u)));
        return v;
    }

    static Map<String, Object> usage(Usage u) {
        return Map.of("uptime_ms", u.uptime().toMillis(), "cpu_ms", u.cpu().toNanos() / 1e6,
                "memory_peak_bytes", u.memoryPeakBytes(), "egress_bytes", u.egressBytes());
    }

    static Map<String, Object> log(LogLine l) {
        return Map.of("seq", l.seq(), "at", l.at().toString(), "line", l.line());
    }

    /** Stored JSON text as a tree, so results are embedded as JSON, not as strings. */
    static JsonNode json(String text) {
        try {
            return Bodies.JSON.readTree(text);
        } catch (JacksonException e) {
            return Bodies.JSON.getNodeFactory().textNode(text);
        }
    }
}
