package dev.aegis.core;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Live agent-API tokens. A token is minted per instance, lives exactly as long as the instance, and is
 * unguessable (256 bits), so one sandbox can never act as another even though all share one socket.
 */
public final class Sessions {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final Map<String, Session> byToken = new ConcurrentHashMap<>();

    public String open(Session session) {
        byte[] raw = new byte[32];
        RANDOM.nextBytes(raw);
        String token = HexFormat.of().formatHex(raw);
        byToken.put(token, session);
        return token;
    }

    /** Points a live token at a new session: a warm instance's token gets its task when the task takes it. */
    public void rebind(String token, Session session) {
        if (byToken.replace(token, session) == null) throw new IllegalStateException("token is not live");
    }

    public Optional<Session> find(String token) {
        return token == null ? Optional.empty() : Optional.ofNullable(byToken.get(token));
    }

    public void close(String token) {
        byToken.remove(token);
    }
}
