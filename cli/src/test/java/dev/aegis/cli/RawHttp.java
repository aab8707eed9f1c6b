package dev.aegis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 written by hand on a socket, for what {@link java.net.http.HttpClient} refuses to send: malformed escapes,
 * encoded NULs, raw bytes in the target, odd headers.
 */
final class RawHttp {
    record Response(int status, Map<String, String> headers, String body) {
        JsonNode json() throws Exception {
            return body.isBlank() ? Http.JSON.createObjectNode() : Http.JSON.readTree(body);
        }
    }

    private RawHttp() {}

    static Response send(String base, String method, String target, Map<String, String> headers, byte[] body) throws Exception {
        URI uri = URI.create(base);
        try (Socket s = new Socket(uri.getHost(), uri.getPort())) {
            s.setSoTimeout(30_000);
            StringBuilder head = new StringBuilder(method + " " + target + " HTTP/1.1\r\nHost: " + uri.getHost() + "\r\nConnection: close\r\n");
            headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
            if (body.length > 0 || !method.equals("GET")) head.append("Content-Length: ").append(body.length).append("\r\n");
            head.append("\r\n");
            OutputStream out = s.getOutputStream();
            try {
                out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
                out.write(body);
                out.flush();
            } catch (java.net.SocketException e) {
                // The server answered and closed before the whole request was sent (a URI too long, a refusal before
                // the body is read): the answer is there to read, and it is what is being tested.
            }
            return read(s.getInputStream());
        }
    }

    private static Response read(InputStream in) throws Exception {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[1 << 16];
        try {
            for (int n; (n = in.read(buf)) >= 0; ) got.write(buf, 0, n);
        } catch (java.net.SocketException e) {
            // reset after the answer (the server closed with our unsent request unread): keep what arrived
            if (got.size() == 0) throw e;
        }
        byte[] all = got.toByteArray();
        String text = new String(all, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        String[] lines = text.substring(0, end).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).strip());
        }
        byte[] body = java.util.Arrays.copyOfRange(all, end + 4, all.length);
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) body = dechunk(body);
        return new Response(status, headers, new String(body, StandardCharsets.UTF_8));
    }

    private static byte[] dechunk(byte[] raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        while (i < raw.length) {
            int eol = i;
            while (eol + 1 < raw.length && !(raw[eol] == '\r' && raw[eol + 1] == '\n')) eol++;
            String size = new String(raw, i, eol - i, StandardCharsets.ISO_8859_1).split(";")[0].strip();
            int n = size.isEmpty() ? 0 : Integer.parseInt(size, 16);
            if (n == 0) break;
            out.write(raw, eol + 2, n);
            i = eol + 2 + n + 2;
        }
        return out.toByteArray();
    }
}
