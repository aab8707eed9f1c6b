package dev.aegis.core;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The secret values injected into one sandbox: the environment variables it gets, and the scrubbing of everything
 * it prints. Each value is replaced by {@code [secret:NAME]} wherever it appears verbatim, JSON-escaped (as
 * {@code json.dumps} writes it, with or without {@code ensure_ascii}) or base64-encoded (standard or URL-safe
 * alphabet, whole, or at any of the three byte alignments inside a longer base64 text, where the group of four
 * characters at each end that mixes in neighbouring bytes stays: at most two bytes of the value each). Scrubbing
 * guards against an agent that prints a secret by mistake, not against one that encodes it on purpose (reversed,
 * hex, split over lines): nothing can, once the value is in the sandbox. {@link #toString()} shows names only.
 */
public final class InjectedSecrets {
    public static final InjectedSecrets NONE = new InjectedSecrets(Map.of());
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Shorter base64 runs would match ordinary text; 8 characters are 6 bytes of the value. */
    private static final int MIN_BASE64 = 8;

    private record Pattern(String text, String replacement) {}

    private final Map<String, String> values;
    private final List<Pattern> patterns = new ArrayList<>();

    public InjectedSecrets(Map<String, String> values) {
        this.values = Map.copyOf(values);
        for (Map.Entry<String, String> e : new TreeMap<>(values).entrySet()) {
            String mark = "[secret:" + e.getKey() + "]";
            String v = e.getValue();
            if (v.isEmpty()) continue;
            add(v, mark);
            add(jsonEscaped(v, false), mark);
            add(jsonEscaped(v, true), mark);
            byte[] raw = v.getBytes(StandardCharsets.UTF_8);
            // The value encoded on its own, whole (padded or not); then the cores that hold inside longer encodings.
            String alone = Base64.getEncoder().encodeToString(raw);
            if (alone.length() >= MIN_BASE64)
                for (String w : new String[]{alone, alone.replace("=", "")}) {
                    add(w, mark);
                    add(w.replace('+', '-').replace('/', '_'), mark);
                }
            for (int skip = 0; skip < 3; skip++) {
                int whole = (raw.length - skip) / 3 * 3;
                if (whole <= 0) continue;
                String b64 = Base64.getEncoder().encodeToString(java.util.Arrays.copyOfRange(raw, skip, skip + whole));
                if (b64.length() < MIN_BASE64) continue;
                add(b64, mark);
                add(b64.replace('+', '-').replace('/', '_'), mark);
            }
        }
        // Longest first: a value that contains another is replaced whole.
        patterns.sort(Comparator.comparingInt((Pattern p) -> p.text.length()).reversed());
    }

    private void add(String text, String mark) {
        if (patterns.stream().noneMatch(p -> p.text.equals(text))) patterns.add(new Pattern(text, mark));
    }

    /** The environment variables of the sandbox: name to value. */
    public Map<String, String> env() {
        return values;
    }

    public boolean isEmpty() {
        return values.isEmpty();
    }

    /** Whether {@code other} injects the same names with the same values. */
    public boolean sameValues(InjectedSecrets other) {
        return values.equals(other.values);
    }

    /** {@code text} with every injected value, in each covered form, replaced by {@code [secret:NAME]}. */
    public String scrub(String text) {
        if (patterns.isEmpty() || text == null || text.isEmpty()) return text;
        String out = text;
        for (Pattern p : patterns) if (out.contains(p.text)) out = out.replace(p.text, p.replacement);
        return out;
    }

    /**
     * A JSON document normalized (parsed, written compactly) and scrubbed: each string and field name on its own, so
     * a value the agent escaped once more inside a string is caught too, then the text as a whole.
     *
     * @throws JacksonException if {@code json} is not one JSON document, or scrubbing would leave it invalid (a value
     *                          that spans JSON syntax)
     */
    public String scrubJson(String json) throws JacksonException {
        JsonNode tree = JSON.readTree(json);
        if (tree == null) throw new JsonParseException(null, "no JSON value");
        if (patterns.isEmpty()) return JSON.writeValueAsString(tree);
        String text = JSON.writeValueAsString(scrubTree(tree));
        String scrubbed = scrub(text);
        return scrubbed.equals(text) ? text : JSON.writeValueAsString(JSON.readTree(scrubbed));
    }

    private JsonNode scrubTree(JsonNode node) {
        if (node.isTextual()) return TextNode.valueOf(scrub(node.textValue()));
        if (node.isArray()) {
            ArrayNode a = JSON.createArrayNode();
            node.forEach(n -> a.add(scrubTree(n)));
            return a;
        }
        if (node.isObject()) {
            ObjectNode o = JSON.createObjectNode();
            node.properties().forEach(e -> o.set(scrub(e.getKey()), scrubTree(e.getValue())));
            return o;
        }
        return node;
    }

    private static String jsonEscaped(String v, boolean asciiOnly) {
        String quoted;
        try {
            quoted = JSON.writeValueAsString(v);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a string always serializes", e);
        }
        String inner = quoted.substring(1, quoted.length() - 1);
        if (!asciiOnly) return inner;
        StringBuilder b = new StringBuilder();
        for (char c : inner.toCharArray()) {
            if (c < 128) b.append(c);
            else b.append(String.format("\\u%04x", (int) c));
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return "InjectedSecrets" + new java.util.TreeSet<>(values.keySet());
    }
}
