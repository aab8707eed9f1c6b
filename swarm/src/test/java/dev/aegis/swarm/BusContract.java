package dev.aegis.swarm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.aegis.core.AegisException;
import dev.aegis.core.Bus;
import dev.aegis.core.Bus.Delivery;
import dev.aegis.core.Bus.Message;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Bus} promises; each bus runs it with a short subclass. Tenants are fresh per test, so a
 * shared NATS server (and its stream) never mixes runs.
 */
abstract class BusContract {
    static final Duration SHORT = Duration.ofMillis(300);
    static final Duration WAIT = Duration.ofSeconds(5);

    Bus bus;
    String acme, globex;

    abstract Bus open();

    @BeforeEach
    void start() {
        bus = open();
        String run = UUID.randomUUID().toString().substring(0, 8);
        acme = "acme-" + run;
        globex = "globex-" + run;
    }

    @AfterEach
    void stop() {
        bus.close();
    }

    static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String text(Delivery d) {
        assertThat(d).isInstanceOf(Message.class);
        return new String(((Message) d).payload(), StandardCharsets.UTF_8);
    }

    /** Everything that arrives until the subscription is quiet for {@link #SHORT}. */
    static List<String> drain(Bus.Subscription s) throws InterruptedException {
        List<String> out = new ArrayList<>();
        for (Optional<Delivery> d; (d = s.next(SHORT)).isPresent(); )
            out.add(d.get() instanceof Message m ? m.subject() + "=" + new String(m.payload(), StandardCharsets.UTF_8)
                    : "overflow:" + ((Bus.Overflow) d.get()).dropped());
        return out;
    }

    /** Subscriptions on NATS are live once the server has them; a request/reply round trip proves it. */
    void settle(String tenant) {
        try (Bus.Subscription ping = bus.subscribe(tenant, "settle", 1)) {
            Thread.ofVirtual().start(() -> {
                try {
                    ping.next(WAIT).ifPresent(d -> ((Message) d).replyTo().ifPresent(r -> bus.publish(tenant, r, text("ok"), Optional.empty())));
                } catch (InterruptedException ignored) {
                    // test over
                }
            });
            bus.request(tenant, "settle", text("?"), WAIT);
        }
    }

    @Test
    void wildcardsMatchTokenByToken() throws Exception {
        try (Bus.Subscription one = bus.subscribe(acme, "orders.*", 100);
             Bus.Subscription all = bus.subscribe(acme, "orders.>", 100);
             Bus.Subscription exact = bus.subscribe(acme, "orders.eu.created", 100);
             Bus.Subscription mid = bus.subscribe(acme, "*.eu.*", 100)) {
            settle(acme);
            for (String s : List.of("orders.new", "orders.eu.created", "orders.us.created", "orders", "billing.eu.paid"))
                bus.publish(acme, s, text(s), Optional.empty());
            assertThat(drain(one)).containsExactly("orders.new=orders.new");
            assertThat(drain(all)).containsExactly("orders.new=orders.new", "orders.eu.created=orders.eu.created",
                    "orders.us.created=orders.us.created");
            assertThat(drain(exact)).containsExactly("orders.eu.created=orders.eu.created");
            assertThat(drain(mid)).containsExactly("orders.eu.created=orders.eu.created", "billing.eu.paid=billing.eu.paid");
        }
    }

    @Test
    void tenantsNeverSeeEachOthersMessagesNotEvenWithTheWidestWildcard() throws Exception {
        try (Bus.Subscription acmeAll = bus.subscribe(acme, ">", 100);
             Bus.Subscription globexAll = bus.subscribe(globex, ">", 100)) {
            settle(acme);
            settle(globex);
            drain(acmeAll);
            drain(globexAll);
            bus.publish(globex, "orders.created", text("globex's"), Optional.empty());
            bus.publish(acme, "orders.created", text("acme's"), Optional.empty());
            assertThat(drain(acmeAll)).containsExactly("orders.created=acme's");
            assertThat(drain(globexAll)).containsExactly("orders.created=globex's");
            // Replies travel outside the tenant's space: not even its own ">" sees them.
            try (Bus.Subscription responder = bus.subscribe(acme, "svc.echo", 10)) {
                settle(acme);
                drain(acmeAll);
                Thread.ofVirtual().start(() -> answer(responder, acme));
                assertThat(text(bus.request(acme, "svc.echo", text("hi"), WAIT))).isEqualTo("echo: hi");
                assertThat(drain(acmeAll)).containsExactly("svc.echo=hi");
            }
        }
    }

    void answer(Bus.Subscription responder, String tenant) {
        try {
            Message m = (Message) responder.next(WAIT).orElseThrow();
            bus.publish(tenant, m.replyTo().orElseThrow(), text("echo: " + new String(m.payload(), StandardCharsets.UTF_8)),
                    Optional.empty());
        } catch (InterruptedException ignored) {
            // test over
        }
    }

    @Test
    void requestGetsTheFirstReplyOrTimesOut() throws Exception {
        try (Bus.Subscription responder = bus.subscribe(acme, "svc.echo", 10)) {
            settle(acme);
            Thread.ofVirtual().start(() -> answer(responder, acme));
            Message reply = bus.request(acme, "svc.echo", text("ping"), WAIT);
            assertThat(new String(reply.payload(), StandardCharsets.UTF_8)).isEqualTo("echo: ping");
            assertThat(reply.subject()).startsWith("_inbox.");
        }
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> bus.request(acme, "svc.nobody", text("ping"), Duration.ofMillis(200)))
                .isInstanceOf(AegisException.class).hasMessageContaining("no reply on \"svc.nobody\" within 200 ms")
                .extracting(e -> ((AegisException) e).code()).isEqualTo("timeout");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(190), Duration.ofSeconds(3));
        // Another tenant's responder does not answer acme.
        try (Bus.Subscription other = bus.subscribe(globex, "svc.echo", 10)) {
            settle(globex);
            Thread.ofVirtual().start(() -> answer(other, globex));
            assertThatThrownBy(() -> bus.request(acme, "svc.echo", text("x"), Duration.ofMillis(300))).hasMessageContaining("no reply");
        }
    }

    @Test
    void plainPublishIsAtMostOnceToWhoeverListensNow() throws Exception {
        bus.publish(acme, "news", text("before"), Optional.empty());
        try (Bus.Subscription s = bus.subscribe(acme, "news", 10)) {
            settle(acme);
            bus.publish(acme, "news", text("after"), Optional.empty());
            assertThat(drain(s)).containsExactly("news=after");
            s.close();
            s.close(); // twice is harmless
            bus.publish(acme, "news", text("closed"), Optional.empty());
            assertThat(s.next(SHORT)).isEmpty();
        }
    }

    @Test
    void aSlowReaderGetsItsBufferAndOneOverflowSignal() throws Exception {
        try (Bus.Subscription slow = bus.subscribe(acme, "firehose", 4);
             Bus.Subscription fast = bus.subscribe(acme, "firehose", 1000)) {
            settle(acme);
            for (int i = 0; i < 10; i++) bus.publish(acme, "firehose", text("m" + i), Optional.empty());
            assertThat(drain(fast)).hasSize(10); // the publisher was not held back by the slow one
            assertThat(drain(slow)).containsExactly("overflow:6", "firehose=m0", "firehose=m1", "firehose=m2", "firehose=m3");
            // Memory stays bounded however much comes: 2,000 x 1 KiB into a buffer of 4.
            byte[] kib = new byte[1024];
            for (int i = 0; i < 2000; i++) bus.publish(acme, "firehose", kib, Optional.empty());
            drain(fast);
            List<String> got = drain(slow);
            assertThat(got).hasSize(5).first().isEqualTo("overflow:1996");
        }
    }

    @Test
    void theDurableStreamReplaysFromASequenceAndThenGoesLive() throws Exception {
        List<Long> seqs = new ArrayList<>();
        for (int i = 0; i < 5; i++) seqs.add(bus.append(acme, "aegis.tasks.worker.t" + i + ".ended", text("e" + i)));
        bus.append(globex, "aegis.tasks.worker.x.ended", text("globex"));
        assertThat(seqs).isSorted().doesNotHaveDuplicates();
        try (Bus.Subscription all = bus.replay(acme, "aegis.tasks.>", 0, 100);
             Bus.Subscription rest = bus.replay(acme, "aegis.tasks.>", seqs.get(2), 100);
             Bus.Subscription onlyNew = bus.replay(acme, "aegis.tasks.>", -1, 100)) {
            List<Message> replayed = messages(all, 5);
            assertThat(replayed).extracting(Message::seq).containsExactlyElementsOf(seqs);
            assertThat(replayed).extracting(m -> new String(m.payload(), StandardCharsets.UTF_8)).containsExactly("e0", "e1", "e2", "e3", "e4");
            assertThat(messages(rest, 2)).extracting(Message::seq).containsExactly(seqs.get(3), seqs.get(4));
            long live = bus.append(acme, "aegis.tasks.worker.t5.ended", text("e5"));
            assertThat(messages(all, 1)).extracting(Message::seq).containsExactly(live);
            assertThat(messages(onlyNew, 1)).extracting(Message::seq).containsExactly(live);
            assertThat(drain(all)).isEmpty();
        }
    }

    @Test
    void streamMessagesAlsoReachPlainSubscribersAndTheStreamTakesOnlyAppends() throws Exception {
        try (Bus.Subscription plain = bus.subscribe(acme, "aegis.tasks.>", 10)) {
            settle(acme);
            long seq = bus.append(acme, "aegis.tasks.w.t.ended", text("durable"));
            Message m = messages(plain, 1).getFirst();
            assertThat(m.seq()).as("a plain subscription does not learn stream sequences").isZero();
            assertThat(seq).isPositive();
            assertThatThrownBy(() -> bus.publish(acme, "aegis.tasks.w.t.note", text("plain"), Optional.empty()))
                    .hasMessageContaining("append to it instead");
        }
        try (Bus.Subscription replay = bus.replay(acme, "aegis.tasks.>", 0, 10)) {
            assertThat(drain(replay)).containsExactly("aegis.tasks.w.t.ended=durable");
        }
        try (Bus.Subscription plain = bus.subscribe(acme, "orders.>", 10)) {
            settle(acme);
            bus.publish(acme, "orders.new", text("plain"), Optional.empty());
            assertThat(messages(plain, 1).getFirst().seq()).isZero();
        }
    }

    @Test
    void badInputIsRefusedNamingTheField() {
        assertThatThrownBy(() -> bus.publish(acme, "a.>", text("x"), Optional.empty())).hasMessageStartingWith("subject: \"a.>\"");
        assertThatThrownBy(() -> bus.publish(acme, "a", text("x"), Optional.of("b.*"))).hasMessageStartingWith("reply_to: ");
        assertThatThrownBy(() -> bus.subscribe(acme, "a.>.b", 10)).hasMessageStartingWith("subject: \"a.>.b\"");
        assertThatThrownBy(() -> bus.publish(acme, "a", new byte[Bus.MAX_PAYLOAD + 1], Optional.empty()))
                .hasMessageContaining("data: 65537 bytes is more than the 65536");
        assertThatThrownBy(() -> bus.append(acme, "orders.x", text("x"))).hasMessageContaining("not a stream subject");
        assertThatThrownBy(() -> bus.subscribe(acme, "a", 0)).hasMessageContaining("buffer");
    }

    static List<Message> messages(Bus.Subscription s, int n) throws InterruptedException {
        List<Message> out = new ArrayList<>();
        while (out.size() < n) {
            Optional<Delivery> d = s.next(WAIT);
            assertThat(d).as("message %d of %d", out.size() + 1, n).isPresent();
            assertThat(d.get()).isInstanceOf(Message.class);
            out.add((Message) d.get());
        }
        return out;
    }
}
