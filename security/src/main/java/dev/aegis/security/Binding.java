package dev.aegis.security;

import dev.aegis.core.EgressGrant;
import dev.aegis.core.AuditDecision;
import dev.aegis.core.EgressRule;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * What one listener serves: a grant, the instance it counts and closes under, and the proxy's shared parts.
 * {@code denials} hears every deny reason, {@code failures} every error the proxy answered itself for an allowed
 * attempt (a server it could not reach, a malformed response); {@link EgressProxy#fetch} reports both to its caller.
 */
record Binding(EgressProxy proxy, EgressGrant grant, Instance instance, Consumer<String> denials, Consumer<String> failures) {
    List<EgressRule> rules() {
        return grant.rules().get();
    }

    Optional<String> task() {
        return grant.task().get();
    }

    EgressPolicy.Verdict check(Authority target) {
        return EgressPolicy.check(rules(), target.host(), target.port(), proxy.config().resolver());
    }

    /** Appends a deny now, before the client hears of it. */
    void deny(Attempt a, String reason) {
        denials.accept(reason);
        proxy.record(grant, a, AuditDecision.DENY, reason, true);
    }

    /** An allowed attempt failed on the way; the proxy answers the client itself with {@code message}. */
    void failed(String message) {
        failures.accept(message);
    }

    /** Appends an allowed attempt once it is over (with its byte counts), off the connection's thread. */
    void allowed(Attempt a) {
        proxy.record(grant, a, AuditDecision.ALLOW, "", false);
    }

    /** Connects to exactly {@code ip}, within the connect timeout; the socket is tracked with the instance. */
    Wire connect(InetAddress ip, int port) throws IOException {
        SocketChannel ch = SocketChannel.open();
        if (!instance.track(ch)) throw new IOException("instance " + instance.id + " is closed");
        try (Deadline d = Deadline.start(proxy.timer(), proxy.config().connectTimeout(), () -> Instance.closeQuietly(ch))) {
            ch.connect(new InetSocketAddress(ip, port));
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        } catch (IOException e) {
            close(ch);
            throw e;
        }
        return new Wire(ch, instance.up);
    }

    void close(AutoCloseable c) {
        instance.untrack(c);
        Instance.closeQuietly(c);
    }
}
