package dev.aegis.bench;

import dev.aegis.api.AgentApiServer;
import dev.aegis.audit.FileAuditLog;
import dev.aegis.cli.ProxyGate;
import dev.aegis.core.Agent;
import dev.aegis.core.HostFolders;
import dev.aegis.core.InstanceId;
import dev.aegis.core.Manifest;
import dev.aegis.core.Memory;
import dev.aegis.core.OperatorLimits;
import dev.aegis.core.Policy;
import dev.aegis.core.SandboxSpec;
import dev.aegis.core.Session;
import dev.aegis.core.Sessions;
import dev.aegis.core.ToolCalls;
import dev.aegis.mcp.McpTools;
import dev.aegis.runtime.bubblewrap.BubblewrapRuntime;
import dev.aegis.security.EgressConfig;
import dev.aegis.security.EgressProxy;
import dev.aegis.store.Database;
import dev.aegis.store.LocalHostFolders;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.ServerParameters;
import io.modelcontextprotocol.client.transport.StdioClientTransport;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Tool-call overhead: {@code echo} of {@code @modelcontextprotocol/server-everything}, called straight by the MCP SDK's
 * {@link McpSyncClient} over stdio (the server a plain {@code node} child of this process), and as a sandboxed agent
 * calls it: {@code tools.call} on the agent API's unix socket with a session token (token and manifest check, the
 * tool's schema check, the real hash-chained audit log with its two fsync'd records, the registration looked up in
 * SQLite), forwarded by {@link McpTools} with the same SDK client to the same server registered as a tenant's tool
 * server and running in its own bubblewrap sandbox. Interleaved call by call so that both see the same machine load;
 * every answer must be the server's echo of that call's own message. The agent side uses {@link KeepAliveClient}; the
 * memory hand-off of results is off (as in {@link LlmBench}). Needs bubblewrap (and root for its cgroups) like the
 * other runtime benches, and the servers from tools/mcp-servers.sh in {@code $AEGIS_MCP_SERVERS} (bench/run sets it).
 * Usage: McpBench [calls] [folder for the audit log and database, default a new one under the temp folder; /dev/shm
 * shows the cost without the disk's fsyncs].
 */
public final class McpBench {
    private static final String ENTRY = "node_modules/@modelcontextprotocol/server-everything/dist/index.js";
    /** As a tenant registers it; the npm folder is an approved host folder granted read-only at /opt/mcp. */
    private static final String REGISTRATION = "{\"name\": \"everything\", \"command\": [\"node\", \"/opt/mcp/" + ENTRY + "\"], "
            + "\"permissions\": {\"filesystem\": {\"read\": [\"/opt/mcp\"]}}, \"resources\": {\"memory\": \"512Mi\", \"pids\": 128}}";

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        Path tmp = args.length > 1 ? Files.createTempDirectory(Path.of(args[1]), "aegis-bench-mcp") : Files.createTempDirectory("aegis-bench-mcp");
        String folder = System.getenv("AEGIS_MCP_SERVERS");
        if (folder == null || !Files.isRegularFile(Path.of(folder, ENTRY)))
            throw new IllegalStateException("AEGIS_MCP_SERVERS=" + folder + " does not hold " + ENTRY + "; run tools/mcp-servers.sh "
                    + "and set it to the folder it prints (bench/run mcp does both)");
        Path servers = Path.of(folder).toAbsolutePath();
        Path socket = tmp.resolve("agent.sock");
        Path code = Files.createDirectories(tmp.resolve("run/mcp")); // /agent of the tool server: empty, as the node gives it
        Path lib = Files.createDirectories(tmp.resolve("lib"));
        HostFolders folders = new LocalHostFolders(List.of(HostFolders.Approved.parse(servers + "=/opt/mcp", false)));
        BubblewrapRuntime bubblewrap = new BubblewrapRuntime(tmp.resolve("run/bubblewrap"));
        System.out.println("runtime: " + bubblewrap.description());
        try (FileAuditLog audit = FileAuditLog.open(tmp.resolve("audit"));
             Database db = Database.sqlite(tmp.resolve("aegis.db"));
             EgressProxy egress = new EgressProxy(audit, EgressConfig.defaults()); // the node's proxy; no socket opens: no egress grant
             // The sandbox Orchestrator.toolServerSpec builds: the server's own manifest and its one granted folder.
             McpTools mcp = new McpTools(db.toolServers(), bubblewrap, (s, id, egressSocket) -> new SandboxSpec(id, s.manifest(), code,
                     socket, lib, egressSocket, Map.of("AEGIS_TENANT", s.tenant(), "AEGIS_TOOL_SERVER", s.name()),
                     List.of(folders.resolve(s.tenant(), "/opt/mcp", false)), SandboxSpec.OutputLimits.DEFAULT),
                     new ProxyGate(egress, tmp.resolve("run/egress")), audit, Clock.systemUTC(), McpTools.Limits.DEFAULT)) {
            mcp.add("bench", REGISTRATION);
            Manifest manifest = new Manifest("bench", "1.0.0", "bubblewrap", List.of("true"), Optional.empty(), Manifest.Resources.DEFAULT,
                    new Manifest.Permissions(Manifest.Network.NONE, Manifest.Filesystem.NONE, List.of("everything.echo"),
                            Manifest.MemoryAccess.NONE, List.of(), Manifest.Llm.NONE), List.of(), Manifest.Pool.DEFAULT);
            Sessions sessions = new Sessions();
            String token = sessions.open(new Session("bench", "task-bench", new InstanceId("i-bench"),
                    new Agent("bench", manifest, "", tmp, "sha256:bench", Instant.now()), new Policy(manifest, OperatorLimits.DEFAULT), line -> { }));
            StdioClientTransport stdio = new StdioClientTransport(ServerParameters.builder("node").args(servers.resolve(ENTRY).toString()).build(),
                    McpJsonDefaults.getMapper());
            stdio.setStdErrorHandler(line -> { });
            try (AgentApiServer api = new AgentApiServer(sessions, socket, Optional.empty(), Optional.of(new ToolCalls(List.of(mcp), audit)),
                    Memory.NONE, audit).start();
                 McpSyncClient direct = McpClient.sync(stdio).requestTimeout(Duration.ofSeconds(31)).initializationTimeout(Duration.ofSeconds(30))
                         .clientInfo(new McpSchema.Implementation("aegis-bench", "0.1.0")).build();
                 KeepAliveClient agent = new KeepAliveClient(UnixDomainSocketAddress.of(socket), "localhost", "Bearer " + token)) {
                direct.initialize();
                System.out.printf("mcp bench: %d calls each path, interleaved; server-everything from %s; data in %s%n", n, servers, tmp);
                int warm = 2000; // JIT: fewer rounds leave AEGIS's code interpreted; also starts the sandboxed server
                double[][] ms = new double[2][n];
                for (int i = 0; i < warm + n; i++) {
                    String message = "call " + i;
                    long t0 = System.nanoTime();
                    McpSchema.CallToolResult r = direct.callTool(new McpSchema.CallToolRequest("echo", Map.of("message", message)));
                    double directMs = (System.nanoTime() - t0) / 1e6;
                    if (!(r.content().getFirst() instanceof McpSchema.TextContent t) || !t.text().equals("Echo: " + message))
                        throw new IllegalStateException("direct call " + i + " answered " + r);
                    KeepAliveClient.Answer a = agent.post("/v1/tools/call", "{\"name\": \"everything.echo\", \"arguments\": {\"message\": \""
                            + message + "\"}}");
                    if (!a.body().contains("\"Echo: " + message + "\""))
                        throw new IllegalStateException("call " + i + " through AEGIS answered " + a.body());
                    if (i >= warm) {
                        ms[0][i - warm] = directMs;
                        ms[1][i - warm] = a.ms();
                    }
                }
                Stats d = Stats.of(ms[0]), g = Stats.of(ms[1]);
                System.out.println(d.row("tool call, direct (SDK, stdio)"));
                System.out.println(g.row("tool call, through AEGIS"));
                System.out.printf("%-34s added p50 %.2f ms  p99 %.2f ms; ratio p50 %.2fx  p99 %.2fx  (target <= 1.3x or < 2 ms added)%n",
                        "tool call: AEGIS cost", g.p50() - d.p50(), g.p99() - d.p99(), g.p50() / d.p50(), g.p99() / d.p99());
                System.out.printf("%-34s %,d audit records (a registration, then tool.call and tool.result per call); %,d calls answered "
                        + "by the server on each path, each with its own message%n", "bookkeeping", audit.lastSeq(), warm + n);
            }
        } finally {
            bubblewrap.reclaim(); // removes the runtime's (now empty) cgroup parent
        }
    }
}
