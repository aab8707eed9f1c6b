package dev.aegis.swarm;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The NATS server the tests use: {@code $AEGIS_NATS_URL}, else 127.0.0.1:4222 when it answers (as {@code ./aegis
 * test} starts it), else a {@code nats-server -js} this JVM starts on a free port with a temporary store and
 * stops when it exits. Without nats-server installed the tests fail, saying how to install it.
 */
public final class NatsServer {
    private static String url;

    private NatsServer() {}

    public static synchronized String url() {
        if (url != null) return url;
        String env = System.getenv("AEGIS_NATS_URL");
        if (env != null && !env.isBlank()) return url = env;
        if (answers(4222)) return url = "nats://127.0.0.1:4222";
        try {
            int port;
            try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                port = s.getLocalPort();
            }
            Path store = Files.createTempDirectory("aegis-nats");
            Process p = new ProcessBuilder("nats-server", "-a", "127.0.0.1", "-p", Integer.toString(port), "-js", "-sd",
                    store.toString()).redirectErrorStream(true).redirectOutput(store.resolve("server.log").toFile()).start();
            Runtime.getRuntime().addShutdownHook(new Thread(p::destroy));
            for (int i = 0; i < 100 && !answers(port); i++) Thread.sleep(50);
            if (!answers(port)) throw new IllegalStateException("nats-server did not start; see " + store.resolve("server.log"));
            return url = "nats://127.0.0.1:" + port;
        } catch (IOException e) {
            throw new IllegalStateException("no NATS server at 127.0.0.1:4222 and cannot start one (" + e.getMessage()
                    + "): install it with apt-get install nats-server, or run ./aegis test", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static boolean answers(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 300);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
