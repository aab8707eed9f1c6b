package dev.aegis.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;

/** Parses ClientHellos that the JDK's own TLS client writes. */
class ClientHelloTest {
    @Test
    void readsTheServerName() throws Exception {
        ByteBuffer hello = hello("api.example.com");
        assertThat(ClientHello.starts(hello.get(0) & 0xff)).isTrue();
        assertThat(ClientHello.parse(hello)).isEqualTo(new ClientHello(Optional.of("api.example.com"), false));
        assertThat(hello.position()).as("not consumed").isZero();
    }

    @Test
    void noServerName() throws Exception {
        assertThat(ClientHello.parse(hello(null))).isEqualTo(new ClientHello(Optional.empty(), false));
    }

    @Test
    void asksForMoreBytesUntilTheHelloIsComplete() throws Exception {
        ByteBuffer hello = hello("api.example.com");
        for (int cut : new int[] {0, 3, 5, 40, hello.remaining() - 1})
            assertThat(ClientHello.parse(hello.duplicate().limit(cut))).as("first %d bytes", cut).isNull();
    }

    @Test
    void joinsAHelloSplitAcrossRecords() throws Exception {
        ByteBuffer one = hello("split.example.com");
        byte[] body = new byte[one.remaining() - 5];
        one.get(5, body);
        int half = body.length / 2;
        ByteBuffer two = ByteBuffer.allocate(body.length + 10);
        two.put((byte) 22).put((byte) 3).put((byte) 1).putShort((short) half).put(body, 0, half);
        two.put((byte) 22).put((byte) 3).put((byte) 1).putShort((short) (body.length - half)).put(body, half, body.length - half);
        assertThat(ClientHello.parse(two.flip()).serverName()).contains("split.example.com");
    }

    @Test
    void refusesWhatIsNotAClientHello() {
        assertThatThrownBy(() -> ClientHello.parse(ByteBuffer.wrap("GET / HTTP/1.1\r\n\r\n".getBytes())))
                .isInstanceOf(ClientHello.Malformed.class);
        ByteBuffer alert = ByteBuffer.wrap(new byte[] {21, 3, 3, 0, 2, 2, 40});
        assertThatThrownBy(() -> ClientHello.parse(alert)).hasMessageContaining("record of type 21");
        ByteBuffer serverHello = ByteBuffer.wrap(new byte[] {22, 3, 3, 0, 4, 2, 0, 0, 0});
        assertThatThrownBy(() -> ClientHello.parse(serverHello)).hasMessageContaining("instead of a ClientHello");
        ByteBuffer lying = ByteBuffer.wrap(new byte[] {22, 3, 3, 0, 6, 1, 0, 0, 2, 3, 3});
        assertThatThrownBy(() -> ClientHello.parse(lying)).hasMessageContaining("truncated");
    }

    /** The first flight of a JDK TLS client, with {@code sni} as its server name (none when null). */
    static ByteBuffer hello(String sni) throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, null, null);
        SSLEngine engine = ctx.createSSLEngine();
        engine.setUseClientMode(true);
        SSLParameters p = engine.getSSLParameters();
        p.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
        engine.setSSLParameters(p);
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.wrap(ByteBuffer.allocate(0), out);
        return out.flip();
    }
}
