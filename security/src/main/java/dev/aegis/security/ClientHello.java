package dev.aegis.security;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * What the proxy reads from the first bytes of a TLS tunnel (RFC 8446 section 4.1.2): the server name the
 * client asks for (SNI, RFC 6066 section 3), and whether it hides the real one (Encrypted ClientHello).
 * The bytes are only read, never changed: they go on to the server as they came.
 */
record ClientHello(Optional<String> serverName, boolean encrypted) {
    private static final int HANDSHAKE = 22;
    private static final int CLIENT_HELLO = 1;
    private static final int SERVER_NAME = 0;
    private static final int ENCRYPTED_CLIENT_HELLO = 0xfe0d;

    /** The first bytes are not a well-formed ClientHello. */
    static final class Malformed extends Exception {
        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    /** Whether {@code first} (the first byte of a tunnel) starts a TLS handshake record. */
    static boolean starts(int first) {
        return first == HANDSHAKE;
    }

    /**
     * Parses the ClientHello at the start of {@code bytes} (not consumed); null when more bytes are needed. The
     * hello may span several records; it must fit in {@code bytes}' capacity.
     */
    static ClientHello parse(ByteBuffer bytes) throws Malformed {
        ByteBuffer in = bytes.duplicate();
        ByteBuffer handshake = ByteBuffer.allocate(in.remaining());
        try {
            while (true) {
                if (in.remaining() < 5) return null;
                int type = in.get() & 0xff;
                int major = in.get() & 0xff;
                in.get();
                int length = in.getShort() & 0xffff;
                if (type != HANDSHAKE) throw new Malformed("TLS record of type " + type + " before the ClientHello was complete");
                if (major != 3 || length == 0 || length > 16384 + 256) throw new Malformed("not a TLS record header");
                if (in.remaining() < length) return null;
                handshake.put(in.slice(in.position(), length));
                in.position(in.position() + length);
                if (handshake.position() < 4) continue;
                int msgType = handshake.get(0) & 0xff;
                int msgLength = ((handshake.get(1) & 0xff) << 16) | ((handshake.get(2) & 0xff) << 8) | (handshake.get(3) & 0xff);
                if (msgType != CLIENT_HELLO) throw new Malformed("TLS handshake message " + msgType + " instead of a ClientHello");
                if (handshake.position() >= 4 + msgLength) return body(handshake.flip().position(4).limit(4 + msgLength));
            }
        } catch (BufferUnderflowException | IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new Malformed("a truncated ClientHello");
        }
    }

    private static ClientHello body(ByteBuffer b) throws Malformed {
        b.position(b.position() + 2 + 32);              // legacy_version, random
        skip(b, b.get() & 0xff);                        // legacy_session_id
        skip(b, b.getShort() & 0xffff);                 // cipher_suites
        skip(b, b.get() & 0xff);                        // legacy_compression_methods
        if (!b.hasRemaining()) return new ClientHello(Optional.empty(), false);
        ByteBuffer extensions = slice(b, b.getShort() & 0xffff);
        Set<Integer> seen = new HashSet<>();
        Optional<String> name = Optional.empty();
        boolean encrypted = false;
        while (extensions.hasRemaining()) {
            int type = extensions.getShort() & 0xffff;
            ByteBuffer data = slice(extensions, extensions.getShort() & 0xffff);
            if (!seen.add(type)) throw new Malformed("extension " + type + " appears twice");
            if (type == ENCRYPTED_CLIENT_HELLO) encrypted = true;
            if (type == SERVER_NAME) name = serverName(data);
        }
        return new ClientHello(name, encrypted);
    }

    private static Optional<String> serverName(ByteBuffer data) throws Malformed {
        ByteBuffer list = slice(data, data.getShort() & 0xffff);
        String name = null;
        while (list.hasRemaining()) {
            int type = list.get() & 0xff;
            ByteBuffer value = slice(list, list.getShort() & 0xffff);
            if (type != 0) continue; // only host_name (0) is defined
            if (name != null) throw new Malformed("more than one server name");
            byte[] raw = new byte[value.remaining()];
            value.get(raw);
            for (byte c : raw) if (c <= 0x20 || c > 0x7e) throw new Malformed("a server name that is not printable ASCII");
            name = new String(raw, StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT);
            if (name.endsWith(".")) name = name.substring(0, name.length() - 1);
        }
        return Optional.ofNullable(name);
    }

    private static ByteBuffer slice(ByteBuffer b, int length) {
        ByteBuffer s = b.slice(b.position(), length);
        b.position(b.position() + length);
        return s;
    }

    private static void skip(ByteBuffer b, int length) {
        b.position(b.position() + length);
    }
}
