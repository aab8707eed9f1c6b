package dev.aegis.llm;

import java.io.IOException;

/** Server-sent events read off a {@link BodyReader}: each {@link #next} waits at most the idle timeout per line. */
final class Sse {
    /** One event: its name ({@code message} when unnamed) and its data lines joined with {@code \n}. */
    record Event(String name, String data) {}

    private final BodyReader body;
    private final long idleNanos;

    Sse(BodyReader body, long idleNanos) {
        this.body = body;
        this.idleNanos = idleNanos;
    }

    /** The next event; null when the body ended. */
    Event next() throws IOException, InterruptedException {
        String name = "message";
        StringBuilder data = null;
        for (String line; (line = body.line(System.nanoTime() + idleNanos)) != null; ) {
            if (line.isEmpty()) {
                if (data != null) return new Event(name, data.toString());
                name = "message";
                continue;
            }
            if (line.startsWith(":")) continue; // a comment (keep-alive)
            int colon = line.indexOf(':');
            String field = colon < 0 ? line : line.substring(0, colon);
            String value = colon < 0 ? "" : line.substring(colon + 1);
            if (value.startsWith(" ")) value = value.substring(1);
            if (field.equals("event")) name = value;
            else if (field.equals("data")) data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
        }
        return data == null ? null : new Event(name, data.toString());
    }
}
