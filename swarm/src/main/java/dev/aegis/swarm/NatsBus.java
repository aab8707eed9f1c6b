package dev.aegis.swarm;

import dev.aegis.core.AegisException;
import dev.aegis.core.Bus;
import dev.aegis.core.Subjects;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.PushSubscribeOptions;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.DiscardPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;

/**
 * {@link Bus} over a NATS server: plain publish/subscribe on core NATS, the durable stream on a JetStream stream
 * (file storage, bounded by count and age, oldest discarded) holding every tenant's {@code aegis.} subjects. One
 * connection and one dispatcher serve every subscription; each handler only offers into its {@link Mailbox},
 * so the dispatcher never waits on a slow reader, and the dispatcher's own backlog is capped as well.
 */
public final class NatsBus implements Bus {
    /** @param stream the JetStream stream's name; its subjects are {@code tenant.*.aegis.>} */
    public record Config(String url, String stream, long maxMessages, Duration maxAge) {
        public static Config defaults(String url) {
            return new Config(url, "AEGIS_EVENTS", 1_000_000, Duration.ofDays(7));
        }
    }

    private final Config config;
    private final Connection connection;
    private final Dispatcher dispatcher;
    private final JetStream jetStream;

    private NatsBus(Config config, Connection connection) throws IOException, JetStreamApiException {
        this.config = config;
        this.connection = connection;
        this.dispatcher = connection.createDispatcher();
        dispatcher.setPendingLimits(65_536, 64L << 20);
        this.jetStream = connection.jetStream();
        ensureStream(connection.jetStreamManagement());
    }

    /** Connects and makes sure the stream exists with this config; fails clearly when the server does not answer. */
    public static NatsBus connect(Config config) {
        Options options = Options.builder().server(config.url()).connectionName("aegis").maxReconnects(-1)
                .connectionTimeout(Duration.ofSeconds(5)).build();
        Connection c;
        try {
            c = Nats.connect(options);
        } catch (IOException e) {
            throw new AegisException("bus_unavailable", "cannot reach NATS at " + config.url() + ": " + e.getMessage()
                    + "; start it with `nats-server -a 127.0.0.1 -p 4222 -js` or run without --nats");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AegisException("bus_unavailable", "interrupted while connecting to NATS at " + config.url());
        }
        try {
            return new NatsBus(config, c);
        } catch (IOException | JetStreamApiException e) {
            close(c);
            throw new AegisException("bus_unavailable", "NATS at " + config.url() + " has no usable JetStream (start the server "
                    + "with -js): " + e.getMessage());
        }
    }

    private void ensureStream(JetStreamManagement jsm) throws IOException, JetStreamApiException {
        StreamConfiguration sc = StreamConfiguration.builder().name(config.stream()).subjects("tenant.*." + Subjects.EVENTS + ">")
                .storageType(StorageType.File).maxMessages(config.maxMessages()).maxAge(config.maxAge())
                .discardPolicy(DiscardPolicy.Old).build();
        for (int attempt = 1; ; attempt++) {
            try {
                jsm.getStreamInfo(config.stream());
                jsm.updateStream(sc);
                return;
            } catch (JetStreamApiException e) {
                if (e.getApiErrorCode() != 10059 || attempt > 2) throw e; // 10059: stream not found
            }
            try {
                jsm.addStream(sc);
                return;
            } catch (JetStreamApiException e) {
                if (attempt > 2) throw e; // another node created it meanwhile: read and update it
            }
        }
    }

    @Override
    public void publish(String tenant, String subject, byte[] payload, Optional<String> replyTo) {
        LocalBus.requirePlain(subject);
        replyTo.ifPresent(r -> Subjects.literal("reply_to", r));
        LocalBus.checkSize(payload);
        connection.publish(Subjects.scoped(tenant, subject), replyTo.map(r -> Subjects.scoped(tenant, r)).orElse(null), payload);
    }

    @Override
    public Subscription subscribe(String tenant, String pattern, int buffer) {
        String scoped = Subjects.scoped(tenant, Subjects.pattern("subject", pattern));
        io.nats.client.Subscription[] sub = new io.nats.client.Subscription[1];
        Mailbox box = new Mailbox(buffer, () -> unsubscribe(sub[0]));
        sub[0] = dispatcher.subscribe(scoped, m -> {
            // The server's "no responders" status to a request: the in-process bus has none, so both time out alike.
            if (!m.isStatusMessage()) box.offer(message(tenant, m));
        });
        return box;
    }

    @Override
    public long append(String tenant, String subject, byte[] payload) {
        LocalBus.requireStream(subject);
        LocalBus.checkSize(payload);
        try {
            return jetStream.publish(Subjects.scoped(tenant, subject), payload).getSeqno();
        } catch (IOException | JetStreamApiException e) {
            throw new AegisException("bus_unavailable", "the event stream did not take the message: " + e.getMessage());
        }
    }

    @Override
    public Subscription replay(String tenant, String pattern, long afterSeq, int buffer) {
        String scoped = Subjects.scoped(tenant, Subjects.pattern("subject", pattern));
        ConsumerConfiguration cc = afterSeq < 0 ? ConsumerConfiguration.builder().deliverPolicy(DeliverPolicy.New).build()
                : ConsumerConfiguration.builder().deliverPolicy(DeliverPolicy.ByStartSequence).startSequence(afterSeq + 1).build();
        PushSubscribeOptions options = PushSubscribeOptions.builder().stream(config.stream()).ordered(true).configuration(cc).build();
        io.nats.client.Subscription[] sub = new io.nats.client.Subscription[1];
        Mailbox box = new Mailbox(buffer, () -> unsubscribe(sub[0]));
        try {
            sub[0] = jetStream.subscribe(scoped, dispatcher, m -> box.offer(message(tenant, m)), false, options);
        } catch (IOException | JetStreamApiException e) {
            throw new AegisException("bus_unavailable", "cannot read the event stream: " + e.getMessage());
        }
        return box;
    }

    private static Message message(String tenant, io.nats.client.Message m) {
        Optional<String> reply = Optional.empty();
        if (m.getReplyTo() != null) {
            try {
                reply = Optional.of(Subjects.relative(tenant, m.getReplyTo()));
            } catch (IllegalArgumentException e) {
                // a reply subject outside the tenant's space (not one AEGIS handed out): not the reader's to answer
            }
        }
        long seq = m.isJetStream() ? m.metaData().streamSequence() : 0;
        byte[] data = m.getData() == null ? new byte[0] : m.getData();
        return new Message(Subjects.relative(tenant, m.getSubject()), data, reply, seq);
    }

    private void unsubscribe(io.nats.client.Subscription s) {
        if (s != null && s.isActive() && connection.getStatus() == Connection.Status.CONNECTED) dispatcher.unsubscribe(s);
    }

    @Override
    public String description() {
        return "NATS at " + config.url() + " (durable stream: JetStream " + config.stream() + ")";
    }

    @Override
    public void close() {
        close(connection);
    }

    private static void close(Connection c) {
        try {
            c.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
