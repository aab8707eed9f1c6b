package dev.aegis.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A minimal HTTP/1.1 client on one kept-alive connection (TCP or a unix socket), enough for Content-Length and chunked
 * answers. The benches time a request with it rather than with a full client, whose own cost would blur the small
 * differences they measure; the same client drives both paths of a comparison.
 */
final class KeepAliveClient implements AutoCloseable {
    /** One answer: the milliseconds from the request's first byte to the answer's last, and the body. */
    record Answer(double ms, String body) {}

    private final SocketChannel channel;
    private final InputStream in;
    private final OutputStream out;
    private final String host;
    private final String auth;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream(1 << 12);

    KeepAliveClient(SocketAddress address, String host, String auth) throws IOException {
        this.channel = SocketChannel.open(address);
        if (address instanceof InetSocketAddress) channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        this.in = new BufferedInputStream(Channels.newInputStream(channel), 1 << 16);
        this.out = Channels.newOutputStream(channel);
        this.host = host;
        this.auth = auth;
    }

    /** Sends one POST and reads the whole answer, which must be a 200. */
    Answer post(String path, String json) throws IOException {
        byte[] content = json.getBytes(StandardCharsets.UTF_8);
        byte[] head = ("POST " + path + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: " + auth
                + "\r\nContent-Type: application/json\r\nContent-Length: " + content.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        body.reset();
        long t0 = System.nanoTime();
        byte[] request = new byte[head.length + content.length];
        System.arraycopy(head, 0, request, 0, head.length);
        System.arraycopy(content, 0, request, head.length, content.length);
        out.write(request);
        out.flush();
        String status = line();
        long length = -1;
        boolean chunked = false;
        for (String h; !(h = line()).isEmpty(); ) {
            String lower = h.toLowerCase(Locale.ROOT);
            if (lower.startsWith("content-length:")) length = Long.parseLong(h.substring(15).strip());
            if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) chunked = true;
        }
        if (chunked) {
            for (long size; (size = Long.parseLong(line().split(";")[0].strip(), 16)) > 0; ) {
                body.write(in.readNBytes((int) size));
                line();
            }
            line();
        } else if (length >= 0) {
            body.write(in.readNBytes((int) length));
        } else {
            throw new IOException("an answer without a length");
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        String text = body.toString(StandardCharsets.UTF_8);
        if (!status.startsWith("HTTP/1.1 200")) throw new IOException("answered " + status + ": " + text);
        return new Answer(ms, text);
    }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(64);
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) throw new IOException("connection closed");
            if (c != '\r') b.write(c);
        }
        return b.toString(StandardCharsets.US_ASCII);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
