package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aegis.api.RateLimits;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every endpoint of the OpenAPI document under random and hostile requests: malformed JSON, wrong types, huge numbers,
 * unicode, missing and extra fields, wrong content types, path traversal and encoded NULs in ids, very long ids, odd
 * query strings. Every answer must be a status the document lists for the route (never a 500), a refusal must be a
 * JSON error, and nothing may change: agents, tasks, keys and instances read the same before and after.
 */
class FuzzTest {
    private static Node node;
    private static Path dir;
    private static String key;
    private static JsonNode doc;
    private static String snapshot;
    private static final long SEED = Long.getLong("fuzz.seed", System.nanoTime());

    /** A documented operation: method, path template, its statuses, and whether it takes a JSON body. */
    record Op(String method, String path, JsonNode spec) {
        boolean jsonBody() {
            return spec.path("requestBody").path("content").has("application/json");
        }

        @Override
        public String toString() {
            return method + " " + path;
        }
    }

    /** One generated request. */
    record Call(Op op, List<String> pathValues, List<String[]> query, String contentType, String body) {
        String target() {
            String p = op.path();
            for (String v : pathValues) p = p.replaceFirst("\\{[^}]+}", java.util.regex.Matcher.quoteReplacement(v));
            if (query.isEmpty()) return p;
            StringBuilder q = new StringBuilder(p).append('?');
            for (String[] kv : query) q.append(q.charAt(q.length() - 1) == '?' ? "" : "&").append(kv[0]).append('=').append(kv[1]);
            return q.toString();
        }
    }

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("aegis-fuzz");
        Path examples = Bundled.extractExamples(dir.resolve("examples"));
        Map<String, RateLimits.Limit> open = Map.of("deploy", new RateLimits.Limit(1_000_000, 1_000_000),
                "run", new RateLimits.Limit(1_000_000, 1_000_000), "read", new RateLimits.Limit(1_000_000, 1_000_000));
        node = new Node(Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of(examples)).withRateLimits(open));
        key = node.firstAdminKey().orElseThrow();
        Http http = new Http(node.url(), key);
        assertThat(http.upload("/v1/agents", TarGz.pack(examples.resolve("summarizer"))).status()).isEqualTo(201);
        assertThat(http.post("/v1/tasks", Map.of("agent", "summarizer", "wait", true, "input", Map.of("text", "One. Two."))).status())
                .isEqualTo(200);
        http.post("/v1/keys", Map.of("role", "reader", "tenant", "acme"));
        assertThat(node.memory().awaitIndexed(java.time.Duration.ofMinutes(2))).as("the task's memories are in before the snapshot").isTrue();
        doc = new Http(node.url(), null).get("/openapi.json").body();
        snapshot = snapshot();
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            assertThat(snapshot()).as("state after all properties").isEqualTo(snapshot);
        } finally {
            node.close();
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void anyRequestToAnyRouteGetsADocumentedAnswer() throws Exception {
        Gen g = new Gen(SEED);
        for (int i = 0; i < 200; i++) check(g.call());
    }

    @Test
    void brokenJsonBodiesAreRefused() throws Exception {
        Gen g = new Gen(SEED + 1);
        for (int i = 0; i < 100; i++) {
            Op op = g.pick(jsonOps());
            String body = g.brokenJson();
            RawHttp.Response r = check(new Call(op, ids(op, g.id()), List.of(), "application/json", body));
            assertThat(r.status()).as(seeded(op + " " + abbreviate(body))).isIn(400, 404, 413, 414, 431);
        }
    }

    @Test
    void aBrokenFieldIsNamed() throws Exception {
        Gen g = new Gen(SEED + 2);
        for (int i = 0; i < 150; i++) {
            Op op = g.pick(jsonOps());
            ObjectNode body = validBody(op);
            String field = g.mutate(body, schema(op));
            RawHttp.Response r = check(new Call(op, examplePathValues(op), List.of(), "application/json", body.toString()));
            String what = seeded(op + " " + body + " -> " + r.body());
            assertThat(r.status()).as(what).isEqualTo(400);
            assertThat(r.json().path("error").path("field").asText()).as(what).isEqualTo(field);
            assertThat(r.json().path("error").path("message").asText()).as(what).startsWith(field + ": ");
        }
    }

    // ---- the checks ----

    private static RawHttp.Response check(Call call) throws Exception {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Authorization", "Bearer " + key);
        if (!call.contentType().isEmpty()) headers.put("Content-Type", call.contentType());
        if (call.op().path().endsWith("/stream")) headers.put("Accept", "text/event-stream");
        RawHttp.Response r = RawHttp.send(node.url(), call.op().method(), call.target(), headers, call.body().getBytes(StandardCharsets.UTF_8));
        String what = call.op() + " as " + call.target() + " [" + call.contentType() + "] " + abbreviate(call.body()) + " -> " + r.status()
                + " " + abbreviate(r.body());
        assertThat(r.status()).as(what).isLessThan(500);
        JsonNode error = r.status() >= 400 ? r.json().path("error") : null;
        if (error != null) {
            assertThat(r.headers().get("content-type")).as(what).startsWith("application/json");
            assertThat(error.path("code").asText()).as(what).isNotBlank();
            assertThat(error.path("message").asText()).as(what).isNotBlank().doesNotContain("Exception").doesNotContain("\tat ");
        }
        boolean unrouted = error != null && (r.status() == 404 && error.path("message").asText().startsWith("no route")
                || r.status() == 405);
        if (!unrouted)
            assertThat(call.op().spec().path("responses").has(Integer.toString(r.status()))).as(what + ": status not documented").isTrue();
        if (!call.op().method().equals("GET")) {
            assertThat(r.status()).as(what + ": a broken change must be refused").isBetween(400, 499);
            assertThat(snapshot()).as(what + ": state changed").isEqualTo(snapshot);
        }
        return r;
    }

    private static String snapshot() throws Exception {
        Http http = new Http(node.url(), key);
        StringBuilder s = new StringBuilder();
        for (String p : List.of("/v1/agents", "/v1/tasks?limit=500", "/v1/keys", "/v1/keys?tenant=acme", "/v1/instances", "/v1/memory/stats",
                "/v1/tools/servers"))
            s.append(p).append(' ').append(http.get(p).raw().body()).append('\n');
        return s.toString();
    }

    private static String abbreviate(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "...(" + s.length() + " chars)" : s;
    }

    // ---- generators ----

    private static List<Op> operations() {
        List<Op> ops = new ArrayList<>();
        for (var p : doc.path("paths").properties())
            for (var m : p.getValue().properties())
                if (List.of("get", "post", "put", "patch", "delete").contains(m.getKey()))
                    ops.add(new Op(m.getKey().toUpperCase(), p.getKey(), m.getValue()));
        return ops;
    }

    private static List<Op> jsonOps() {
        return operations().stream().filter(Op::jsonBody).toList();
    }

    private static List<String> ids(Op op, String id) {
        int n = op.path().split("\\{", -1).length - 1;
        return java.util.Collections.nCopies(n, id);
    }

    /** The documented example of each path parameter, in order, so that only the body is wrong. */
    private static List<String> examplePathValues(Op op) {
        List<String> values = new ArrayList<>();
        for (JsonNode p : op.spec().path("parameters")) {
            JsonNode param = p.has("$ref") ? doc.at(p.get("$ref").asText().substring(1)) : p;
            if (param.path("in").asText().equals("path")) values.add(param.path("example").asText("summarizer"));
        }
        return values;
    }

    private static String seeded(String what) {
        return what + " (reproduce with -Dfuzz.seed=" + SEED + ")";
    }

    /**
     * Hostile requests from a seeded {@link Random}: the seed is printed with every failure and taken back with
     * {@code -Dfuzz.seed}, so a failing run can be replayed exactly.
     */
    static final class Gen {
        private static final List<String> ODD_IDS = List.of("..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f", "..", ".", "%00", "a%00b", "%2F",
                "%5C..%5C", "..%5c..%5c", "%E2%80%AE", "%F0%9F%98%80", "%C0%AE%C0%AE", "%25", "%25%30%30", "%3Cscript%3E",
                "'%20OR%201=1--", "nope", "0", "-1", "9223372036854775808", "1e9", "%20", "a%20b", "~", "%ff%fe", "summarizer",
                "000000000000");
        private static final List<String> QUERY_NAMES = List.of("limit", "after", "from", "to", "group_by", "tenant", "agent", "task",
                "action", "since", "until", "q", "kind", "budget");
        private static final List<String> QUERY_VALUES = List.of("", "-1", "0", "1", "501", "abc", "1e999", "99999999999999999999999",
                "%ZZ", "%00", "true", "null", "2026-01-01T00:00:00Z", "2026-13-45", "agent", "tenant", "default", "acme", "ACME", "1.5",
                "0x10", "%E2%80%AE");
        private static final List<String> CONTENT_TYPES = List.of("application/json", "application/json", "application/json; charset=utf-8",
                "text/plain", "", "application/gzip", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                "application/xml", "APPLICATION/JSON", "application/json-patch+json", "*/*", "garbage");
        private static final List<String> LEAVES = List.of("null", "true", "false", "0", "-0", "1e400", "-1e400",
                "123456789012345678901234567890", "1.5", "1E+30", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
                "0.0000001");
        private static final List<String> FIELD_NAMES = List.of("agent", "input", "wait", "timeout_ms", "priority", "role", "tenant",
                "expires_in", "path", "__proto__", "", "agent ", "value");
        private static final List<String> BROKEN = List.of("{", "}", "{\"agent\":", "{\"agent\" \"x\"}", "{'agent': 'x'}",
                "{\"agent\": \"x\",}", "[1,2", "NaN", "Infinity", "{\"agent\": \"x\"}{}", "\u0000", "{\"a\":\"\\ud800\"}",
                "{\"agent\": \"\\u0000\"}", "\ufeff{}", "{\"a\":1e99999999999}", "{\"agent\": \"x\", \"agent\": \"y\"}",
                "{\"priority\": 0x10}", "{\"priority\": 01}", "{\"wait\": True}", "[".repeat(5000) + "]".repeat(5000),
                "{\"a\":".repeat(3000) + "1" + "}".repeat(3000), "{\"input\": \"" + "x".repeat(1 << 20) + "\"}", "1".repeat(5000),
                "\"" + "\\u00e9".repeat(1000) + "\"");
        private static final List<JsonNode> WRONG_VALUES = List.of(Http.JSON.getNodeFactory().nullNode(),
                Http.JSON.getNodeFactory().booleanNode(true), Http.JSON.getNodeFactory().numberNode(new java.math.BigDecimal("1E+400")),
                Http.JSON.getNodeFactory().numberNode(new java.math.BigInteger("123456789012345678901234567890")),
                Http.JSON.getNodeFactory().numberNode(-1), Http.JSON.getNodeFactory().numberNode(1.5), Http.JSON.getNodeFactory().textNode(""),
                Http.JSON.getNodeFactory().textNode("\u202e\u0000"), Http.JSON.getNodeFactory().textNode("Ünïcödé 😀"),
                Http.JSON.getNodeFactory().arrayNode(), Http.JSON.getNodeFactory().objectNode());
        private final Random random;

        Gen(long seed) {
            random = new Random(seed);
        }

        <T> T pick(List<T> from) {
            return from.get(random.nextInt(from.size()));
        }

        private boolean oneIn(int n) {
            return random.nextInt(n) == 0;
        }

        Call call() {
            Op op = pick(operations());
            String body = switch (random.nextInt(8)) {
                case 0 -> "";
                case 1 -> "{}";
                case 2, 3, 4 -> json(3);
                default -> brokenJson();
            };
            List<String[]> query = query();
            // The event stream follows forever by default; a call must end, so it replays what is stored and closes.
            if (op.path().equals("/v1/events")) query.add(new String[] {"follow", "false"});
            List<String> ids = ids(op, id());
            // Deleting the memories of a namespace that exists is a valid request, not a hostile one; every other
            // deleting route needs an id that no generator here makes.
            if (op.path().equals("/v1/memory/agents/{name}")) ids = ids.stream().map(v -> v.equals("summarizer") ? "nope" : v).toList();
            return new Call(op, ids, query, pick(CONTENT_TYPES), body);
        }

        /** Path ids: traversal, encoded NULs and slashes, unicode, SQL and markup, very long ones, plain unknown ones. */
        String id() {
            return switch (random.nextInt(9)) {
                case 0, 1, 2, 3 -> pick(ODD_IDS);
                case 4, 5 -> "a".repeat(1 + random.nextInt(4000));
                default -> URLEncoder.encode(text(1 + random.nextInt(80)), StandardCharsets.UTF_8);
            };
        }

        List<String[]> query() {
            List<String[]> q = new ArrayList<>();
            for (int i = random.nextInt(5); i > 0; i--) {
                String name = oneIn(4) ? URLEncoder.encode(text(1 + random.nextInt(20)), StandardCharsets.UTF_8) : pick(QUERY_NAMES);
                String value = switch (random.nextInt(6)) {
                    case 0, 1, 2 -> pick(QUERY_VALUES);
                    case 3 -> "x".repeat(1 + random.nextInt(3000));
                    default -> URLEncoder.encode(text(random.nextInt(40)), StandardCharsets.UTF_8);
                };
                q.add(new String[] {name, value});
            }
            return q;
        }

        /** Random JSON text: huge and odd numbers, unicode and control characters, nesting. */
        String json(int depth) {
            int kind = depth == 0 ? 0 : random.nextInt(3);
            if (kind == 1) {
                List<String> kv = new ArrayList<>();
                for (int i = random.nextInt(6); i > 0; i--) {
                    String name = oneIn(3) ? text(random.nextInt(10)) : pick(FIELD_NAMES);
                    kv.add(Http.JSON.getNodeFactory().textNode(name) + ":" + json(depth - 1));
                }
                return "{" + String.join(",", kv) + "}";
            }
            if (kind == 2) {
                List<String> vs = new ArrayList<>();
                for (int i = random.nextInt(5); i > 0; i--) vs.add(json(depth - 1));
                return "[" + String.join(",", vs) + "]";
            }
            return switch (random.nextInt(3)) {
                case 0 -> pick(LEAVES);
                case 1 -> Integer.toString(random.nextInt());
                default -> Http.JSON.getNodeFactory().textNode(text(random.nextInt(30))).toString();
            };
        }

        /** Text that is not JSON, or JSON past what any parser should take. */
        String brokenJson() {
            return switch (random.nextInt(3)) {
                case 0 -> pick(BROKEN);
                case 1 -> {
                    String j = json(2);
                    yield j.length() > 1 ? j.substring(0, j.length() / 2) : j + "}";
                }
                default -> text(1 + random.nextInt(50));
            };
        }

        /** Any characters: ASCII, controls, accents, right-to-left marks, emoji, lone surrogates. */
        String text(int length) {
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < length; i++) {
                switch (random.nextInt(6)) {
                    case 0 -> s.append((char) random.nextInt(0x20));
                    case 1 -> s.append((char) (0xC0 + random.nextInt(0x180)));
                    case 2 -> s.append(pick(List.of("\u202e", "\u200b", "\ufeff", "\ud800", "\udfff", "😀", "\u0000", "/", "\\", "..")));
                    default -> s.append((char) (0x20 + random.nextInt(0x5f)));
                }
            }
            return s.toString();
        }

        /** Breaks a valid body in one way (unknown field, missing required one, wrong type or value); returns that field. */
        String mutate(ObjectNode body, JsonNode schema) {
            switch (random.nextInt(3)) {
                case 0 -> {
                    String name = oneIn(2) ? pick(List.of("colour", "Agent", "agent_", "__proto__", "constructor", "priority "))
                            : randomAlpha(1 + random.nextInt(12));
                    String unknown = schema.path("properties").has(name) ? name + "_x" : name;
                    body.put(unknown, 1);
                    return unknown;
                }
                case 1 -> {
                    String required = schema.path("required").get(0).asText();
                    body.remove(required);
                    return required;
                }
                default -> {
                    // A random typed field and a random wrong value; the first pair the schema refuses.
                    List<String> typed = new ArrayList<>();
                    for (var p : schema.path("properties").properties()) if (p.getValue().has("type")) typed.add(p.getKey());
                    int field = random.nextInt(Math.max(1, typed.size())), value = random.nextInt(WRONG_VALUES.size());
                    for (int k = 0; k < typed.size() * WRONG_VALUES.size(); k++) {
                        String f = typed.get((field + k / WRONG_VALUES.size()) % typed.size());
                        JsonNode v = WRONG_VALUES.get((value + k) % WRONG_VALUES.size());
                        if (!fits(schema.path("properties").path(f), v)) {
                            body.set(f, v);
                            return f;
                        }
                    }
                    throw new AssertionError("no typed field of " + schema + " refuses any of " + WRONG_VALUES);
                }
            }
        }

        private String randomAlpha(int length) {
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < length; i++) s.append((char) ((random.nextBoolean() ? 'a' : 'A') + random.nextInt(26)));
            return s.toString();
        }
    }

    // ---- schema mutations ----

    private static JsonNode schema(Op op) {
        JsonNode s = op.spec().path("requestBody").path("content").path("application/json").path("schema");
        return s.has("$ref") ? doc.at(s.get("$ref").asText().substring(1)) : s;
    }

    /** A body valid for the operation: its first documented example. */
    private static ObjectNode validBody(Op op) {
        JsonNode examples = op.spec().path("requestBody").path("content").path("application/json").path("examples");
        return (ObjectNode) examples.properties().iterator().next().getValue().path("value").deepCopy();
    }

    /** Whether a value could pass a property's schema (then the mutation is not a breaking one). */
    private static boolean fits(JsonNode s, JsonNode v) {
        return switch (s.path("type").asText()) {
            case "string" -> v.isTextual() && v.asText().length() >= s.path("minLength").asInt(0)
                    && (!s.has("pattern") || java.util.regex.Pattern.compile(s.get("pattern").asText()).matcher(v.asText()).find())
                    && (!s.has("enum") || s.get("enum").toString().contains(v.toString()));
            case "integer" -> v.isIntegralNumber() && v.canConvertToLong() && v.asLong() >= s.path("minimum").asLong(Long.MIN_VALUE)
                    && v.asLong() <= s.path("maximum").asLong(Long.MAX_VALUE);
            case "boolean" -> v.isBoolean();
            default -> true;
        };
    }
}
