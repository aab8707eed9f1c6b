package dev.aegis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "usage", mixinStandardHelpOptions = true,
        description = {"Prints what a tenant's tasks used: tasks, failures, CPU-seconds, memory-MiB-seconds, wall-seconds.", "",
                "Example:", "  aegis usage", "  aegis usage --from 2026-11-01T00:00:00Z --to 2026-12-01T00:00:00Z --group-by tenant"})
final class UsageCommand implements java.util.concurrent.Callable<Integer> {
    @Mixin
    Client client;

    @Option(names = "--from", description = "start, ISO-8601 (default: start of today, UTC)")
    String from;

    @Option(names = "--to", description = "end, ISO-8601 (default: now)")
    String to;

    @Option(names = "--group-by", defaultValue = "agent", description = "agent or tenant (default ${DEFAULT-VALUE})")
    String groupBy;

    @Option(names = "--tenant", description = "another tenant (platform admin only)")
    String tenant;

    @Override
    public Integer call() throws Exception {
        StringBuilder q = new StringBuilder("/v1/usage?group_by=" + groupBy);
        if (from != null) q.append("&from=").append(from);
        if (to != null) q.append("&to=").append(to);
        if (tenant != null) q.append("&tenant=").append(tenant);
        JsonNode u = client.get(q.toString());
        System.out.println("tenant " + u.path("tenant").asText() + ", " + u.path("from").asText() + " .. " + u.path("to").asText());
        System.out.printf("%-24s %7s %7s %12s %16s %12s%n", "agent", "tasks", "failed", "cpu_s", "mem_MiB_s", "wall_s");
        for (JsonNode r : u.path("usage"))
            System.out.printf("%-24s %7d %7d %12.3f %16.3f %12.3f%n", r.path("agent").asText("(all)"), r.path("tasks").asLong(),
                    r.path("failed").asLong(), r.path("cpu_seconds").asDouble(), r.path("memory_mib_seconds").asDouble(),
                    r.path("wall_seconds").asDouble());
        return 0;
    }
}
