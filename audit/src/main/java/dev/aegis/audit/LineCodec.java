package dev.aegis.audit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.aegis.core.AuditCheckpoint;
import dev.aegis.core.AuditDecision;
import dev.aegis.core.AuditEvent;
import dev.aegis.core.AuditRecord;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The JSON Lines form of records and checkpoints, used in segments, checkpoints.log and exports alike. The
 * encoder is the only writer, so each value has exactly one spelling; {@link #decode} re-encodes and compares
 * bytes, which turns any edit that keeps the JSON meaning (an escape, a space, a leading zero) into an error.
 */
final class LineCodec {
    private static final JsonFactory JSON = new JsonFactory();

    /** A decoded line: a record or a checkpoint. */
    sealed interface Line permits RecordLine, CheckpointLine {}

    record RecordLine(AuditRecord record) implements Line {}

    record CheckpointLine(AuditCheckpoint checkpoint) implements Line {}

    private LineCodec() {}

    static byte[] encode(AuditRecord r) {
        StringBuilder b = new StringBuilder(1024);
        b.append("{\"type\":\"record\",\"seq\":").append(r.seq());
        field(b, "time", Canonical.time(r.time()));
        eventFields(b, r.event());
        b.append(",\"prev\":\"").append(r.prevHash()).append("\",\"hash\":\"").append(r.hash()).append('"'); // hex: nothing to escape
        return b.append("}\n").toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The middle of a record line, which depends on the event alone: {@code ,"tenant":…,"details":{…}}. A record
     * line is {@code {"type":"record","seq":N,"time":"T"} + this + {@code ,"prev":"P","hash":"H"}\n}.
     */
    static byte[] eventFields(AuditEvent e) {
        StringBuilder b = new StringBuilder(512);
        eventFields(b, e);
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void eventFields(StringBuilder b, AuditEvent e) {
        field(b, "tenant", e.tenant());
        field(b, "actor", e.actor());
        field(b, "agent", e.agent().orElse(""));
        field(b, "task", e.task().orElse(""));
        field(b, "action", e.action());
        field(b, "target", e.target());
        field(b, "decision", e.decision().wire());
        field(b, "reason", e.reason());
        b.append(",\"details\":{");
        boolean first = true;
        for (Map.Entry<String, String> d : e.details().entrySet()) {
            if (!first) b.append(',');
            first = false;
            string(b, d.getKey());
            b.append(':');
            string(b, d.getValue());
        }
        b.append('}');
    }

    static byte[] encode(AuditCheckpoint c) {
        StringBuilder b = new StringBuilder(300);
        b.append("{\"type\":\"checkpoint\",\"from\":").append(c.fromSeq()).append(",\"to\":").append(c.toSeq());
        field(b, "time", Canonical.time(c.time()));
        field(b, "head", c.headHash());
        field(b, "root", c.merkleRoot());
        field(b, "sig", c.signature());
        return b.append("}\n").toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Decodes one line (with or without its trailing newline). Throws {@link IllegalArgumentException} saying why not. */
    static Line decode(byte[] buf, int off, int len) {
        Map<String, Object> f = new java.util.HashMap<>(32);
        try (JsonParser p = JSON.createParser(buf, off, len)) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw new IllegalArgumentException("not a JSON object");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                Object v = switch (t) {
                    case VALUE_STRING -> p.getText();
                    case VALUE_NUMBER_INT -> p.getLongValue();
                    case START_OBJECT -> details(p);
                    default -> throw new IllegalArgumentException("field " + name + " has an unexpected " + t);
                };
                if (f.put(name, v) != null) throw new IllegalArgumentException("field " + name + " appears twice");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getMessage(), e);
        }
        Line line = switch (str(f, "type")) {
            case "record" -> new RecordLine(record(f));
            case "checkpoint" -> new CheckpointLine(checkpoint(f));
            default -> throw new IllegalArgumentException("type \"" + f.get("type") + "\" is neither record nor checkpoint");
        };
        byte[] again = line instanceof RecordLine r ? encode(r.record()) : encode(((CheckpointLine) line).checkpoint());
        int end = len > 0 && buf[off + len - 1] == '\n' ? len : len + 1;
        if (again.length != end || !Arrays.equals(again, 0, end - 1, buf, off, off + end - 1)) {
            throw new IllegalArgumentException("not in canonical form (bytes differ from the re-encoded line)");
        }
        return line;
    }

    private static AuditRecord record(Map<String, Object> f) {
        if (f.size() != 14) throw new IllegalArgumentException("a record has 14 fields, this line has " + f.size());
        @SuppressWarnings("unchecked")
        Map<String, String> details = (Map<String, String>) f.get("details");
        if (details == null) throw new IllegalArgumentException("field details is missing");
        AuditEvent e = new AuditEvent(str(f, "tenant"), str(f, "actor"), opt(str(f, "agent")), opt(str(f, "task")),
                str(f, "action"), str(f, "target"), AuditDecision.fromWire(str(f, "decision")), str(f, "reason"), details);
        return new AuditRecord(num(f, "seq"), RecordTime.parse(str(f, "time")), e, hex(f, "prev"), hex(f, "hash"));
    }

    private static AuditCheckpoint checkpoint(Map<String, Object> f) {
        if (f.size() != 7) throw new IllegalArgumentException("a checkpoint has 7 fields, this line has " + f.size());
        return new AuditCheckpoint(num(f, "from"), num(f, "to"), RecordTime.parse(str(f, "time")), hex(f, "head"),
                hex(f, "root"), str(f, "sig"));
    }

    private static Map<String, String> details(JsonParser p) throws IOException {
        Map<String, String> d = new TreeMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String k = p.currentName();
            if (p.nextToken() != JsonToken.VALUE_STRING) throw new IllegalArgumentException("details." + k + " is not a string");
            d.put(k, p.getText());
        }
        return d;
    }

    private static String str(Map<String, Object> f, String name) {
        if (!(f.get(name) instanceof String s)) throw new IllegalArgumentException("field " + name + " is missing or not a string");
        return s;
    }

    private static long num(Map<String, Object> f, String name) {
        if (!(f.get(name) instanceof Long n)) throw new IllegalArgumentException("field " + name + " is missing or not a number");
        return n;
    }

    private static String hex(Map<String, Object> f, String name) {
        String s = str(f, name);
        boolean ok = s.length() == 64;
        for (int i = 0; ok && i < 64; i++) {
            char c = s.charAt(i);
            ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        }
        if (!ok) {
            throw new IllegalArgumentException("field " + name + " is not 64 lower-case hex digits");
        }
        return s;
    }

    private static Optional<String> opt(String s) {
        return s.isEmpty() ? Optional.empty() : Optional.of(s);
    }

    private static boolean plain(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == '"' || c == '\\') return false;
        }
        return true;
    }

    private static void field(StringBuilder b, String name, String value) {
        b.append(",\"").append(name).append("\":");
        string(b, value);
    }

    /** JSON string with the escapes Python's json.dumps(ensure_ascii=False) uses, so both agree on the bytes. */
    private static void string(StringBuilder b, String s) {
        b.append('"');
        if (plain(s)) {
            b.append(s).append('"'); // the common case: nothing to escape, one bulk copy
            return;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        b.append('"');
    }
}
