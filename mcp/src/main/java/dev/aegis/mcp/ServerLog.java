package dev.aegis.mcp;

import dev.aegis.core.LogSink;
import dev.aegis.core.ToolServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a stdio tool server says besides JSON-RPC (its stderr, stray stdout lines), in the server log under
 * {@code dev.aegis.mcp.server}, each line naming its tenant and server: where an operator looks when a server will
 * not start. The server is tenant code, so the log is bounded: a line is cut at {@link #MAX_CHARS} with control
 * characters escaped (it cannot forge log lines), and at most {@link #PER_SECOND} lines a second get through; the
 * rest are counted and the count is written with the next line that does, or when the session ends. (The runtime
 * also caps a session's stderr in total, so a flood ends in silence rather than in a full disk.)
 */
final class ServerLog implements LogSink {
    static final Logger LOG = LoggerFactory.getLogger("dev.aegis.mcp.server");
    static final int MAX_CHARS = 2_000;
    static final int PER_SECOND = 20;
    private final String who;
    private long second = -1;
    private int written;
    private long dropped;

    ServerLog(ToolServer server) {
        this.who = server.tenant() + "/" + server.name();
    }

    @Override
    public synchronized void line(String line) {
        long now = System.nanoTime() / 1_000_000_000L;
        if (now != second) {
            second = now;
            written = 0;
        }
        if (written >= PER_SECOND) {
            dropped++;
            return;
        }
        written++;
        LOG.info("tool server {}: {}{}", who, clean(line), dropped());
    }

    /** The session is over (the server exited or was stopped): says why, and what was dropped. */
    synchronized void ended(String why) {
        LOG.info("tool server {} ended: {}{}", who, clean(why), dropped());
    }

    private String dropped() {
        if (dropped == 0) return "";
        String note = " [" + dropped + " earlier lines dropped: more than " + PER_SECOND + " a second]";
        dropped = 0;
        return note;
    }

    private static String clean(String line) {
        StringBuilder sb = new StringBuilder(Math.min(line.length(), MAX_CHARS) + 16);
        int i = 0;
        for (; i < line.length() && sb.length() < MAX_CHARS; i++) {
            char c = line.charAt(i);
            if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029') sb.append(String.format("\\u%04x", (int) c));
            else sb.append(c);
        }
        if (i < line.length()) sb.append("… [").append(line.length()).append(" chars]");
        return sb.toString();
    }
}
