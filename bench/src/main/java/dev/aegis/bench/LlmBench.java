package dev.aegis.bench;

import dev.aegis.api.AgentApiServer;
import dev.aegis.audit.FileAuditLog;
import dev.aegis.core.Agent;
import dev.aegis.core.InstanceId;
import dev.aegis.core.LlmCalls;
import dev.aegis.core.Manifest;
import dev.aegis.core.OperatorLimits;
import dev.aegis.core.Policy;
import dev.aegis.core.Session;
import dev.aegis.core.Sessions;
import dev.aegis.llm.LlmGateway;
import dev.aegis.llm.LocalModelServer;
import dev.aegis.store.Database;
import dev.aegis.store.SecretCipher;
import dev.aegis.store.SqlSecretStore;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * LLM gateway overhead: the same small chat completion sent straight to the local model server over TCP, and through
 * the agent API's unix socket as a sandbox sends it (token check, manifest check, budget, the tenant's key read from
 * the sealed secrets store, the real hash-chained audit log with its two fsync'd records, the metering row in SQLite,
 * the JDK client to the provider), interleaved request by request so that both see the same machine load. The same
 * minimal HTTP/1.1 keep-alive client ({@link KeepAliveClient}) drives both paths. Non-streaming (whole answer) and
 * streaming (to {@code [DONE]}).
 * Usage: LlmBench [requests] [folder for the audit log and database, default a new one under the temp folder; /dev/shm
 * shows the cost without the disk's fsyncs].
 */
public final class LlmBench {
    private static final String PROMPT = "Summarize this. The build is green again. The flaky test was a race in the pool. "
            + "Nobody touched the audit log. The release can go out on Friday.";

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        Path tmp = args.length > 1 ? Files.createTempDirectory(Path.of(args[1]), "aegis-bench-llm") : Files.createTempDirectory("aegis-bench-llm");
        byte[] sealKey = new byte[32];
        new SecureRandom().nextBytes(sealKey);
        try (LocalModelServer models = LocalModelServer.start();
             FileAuditLog audit = FileAuditLog.open(tmp.resolve("audit"));
             Database db = Database.sqlite(tmp.resolve("aegis.db"))) {
            String key = "sk-bench-" + Long.toHexString(System.nanoTime());
            models.requireKey(key);
            SqlSecretStore secrets = db.secrets(new SecretCipher(sealKey));
            secrets.put("bench", "BENCH_KEY", key, Instant.now());
            LlmCalls llm = new LlmCalls(new LlmGateway(LlmGateway.Config.DEFAULT), db.llm(), secrets, audit, Clock.systemUTC(),
                    LlmCalls.Options.DEFAULT);
            llm.setProvider("bench", "openai", models.openAiBaseUrl(), "BENCH_KEY");
            Manifest manifest = new Manifest("bench", "1.0.0", "bubblewrap", List.of("true"), Optional.empty(), Manifest.Resources.DEFAULT,
                    new Manifest.Permissions(Manifest.Network.NONE, Manifest.Filesystem.NONE, List.of(), Manifest.MemoryAccess.NONE,
                            List.of(), new Manifest.Llm(List.of("local"), Long.MAX_VALUE / 4)), List.of(), Manifest.Pool.DEFAULT);
            Sessions sessions = new Sessions();
            String token = sessions.open(new Session("bench", "task-bench", new InstanceId("i-bench"),
                    new Agent("bench", manifest, "", tmp, "sha256:bench", Instant.now()), new Policy(manifest, OperatorLimits.DEFAULT), line -> { }));
            Path socket = tmp.resolve("agent.sock");
            try (AgentApiServer api = new AgentApiServer(sessions, socket, Optional.empty(), Optional.empty(), dev.aegis.core.Memory.NONE, audit,
                    Optional.of(llm)).start();
                 KeepAliveClient direct = new KeepAliveClient(new InetSocketAddress("127.0.0.1", models.port()), "127.0.0.1", "Bearer " + key);
                 KeepAliveClient gateway = new KeepAliveClient(UnixDomainSocketAddress.of(socket), "localhost", "Bearer " + token)) {
                String chat = "{\"model\":\"local\",\"messages\":[{\"role\":\"user\",\"content\":\"" + PROMPT + "\"}]}";
                String stream = chat.substring(0, chat.length() - 1) + ",\"stream\":true}";
                System.out.printf("llm bench: %d requests each path and mode, interleaved, keep-alive; local model server on 127.0.0.1:%d; "
                        + "data in %s%n", n, models.port(), tmp);
                for (int i = 0; i < 2000; i++) { // warm every path (JIT: fewer rounds leave the gateway's code interpreted), connections
                    direct.post("/v1/chat/completions", chat);
                    gateway.post("/v1/chat/completions", chat);
                    direct.post("/v1/chat/completions", stream);
                    gateway.post("/v1/chat/completions", stream);
                }
                double[][] ms = new double[4][n];
                for (int i = 0; i < n; i++) {
                    ms[0][i] = direct.post("/v1/chat/completions", chat).ms();
                    ms[1][i] = gateway.post("/v1/chat/completions", chat).ms();
                    ms[2][i] = direct.post("/v1/chat/completions", stream).ms();
                    ms[3][i] = gateway.post("/v1/chat/completions", stream).ms();
                }
                report("chat", Stats.of(ms[0]), Stats.of(ms[1]));
                report("chat, streamed", Stats.of(ms[2]), Stats.of(ms[3]));
                System.out.printf("%-34s %,d audit records, %,d tokens metered, %,d requests at the model server%n", "bookkeeping",
                        audit.lastSeq(), llm.taskTokens("bench", "task-bench").total(), models.requests());
            }
        }
    }

    private static void report(String what, Stats direct, Stats gateway) {
        System.out.println(direct.row(what + ", direct"));
        System.out.println(gateway.row(what + ", through AEGIS"));
        System.out.printf("%-34s added p50 %.2f ms  p99 %.2f ms  (target < 2 ms added at p50); ratio p50 %.2fx%n", what + ": gateway cost",
                gateway.p50() - direct.p50(), gateway.p99() - direct.p99(), gateway.p50() / direct.p50());
    }
}
