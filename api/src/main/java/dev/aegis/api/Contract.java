package dev.aegis.api;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.dialect.Dialects;
import dev.aegis.core.AegisException;
import io.javalin.http.Context;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The OpenAPI document as the gate's rule book. Each route is registered through {@link #operation}, which fails at
 * start-up when the document lacks it; {@link Operation#check} then holds every request to what the document says
 * of its query and path parameters, content type, size and body, before the handler runs. The document and the
 * behaviour cannot drift: there is no second list of fields anywhere.
 */
final class Contract {
    /** Where the validator finds the document, so {@code #/components/...} references resolve inside it. */
    private static final String BASE = "https://aegis.invalid/openapi.json";
    static final String BODY = "aegis.body";

    private final JsonNode doc;
    private final SchemaRegistry registry;

    private Contract(String text) {
        try {
            this.doc = Bodies.JSON.readTree(text);
        } catch (JacksonException e) {
            throw new IllegalStateException("openapi.json is not JSON", e);
        }
        this.registry = SchemaRegistry.withDefaultDialect(Dialects.getOpenApi31(), b -> b.schemas(Map.of(BASE, text)));
    }

    static Contract load() {
        return new Contract(OpenApi.document());
    }

    /** The documented operation; a route the document does not describe is a programming error, found at start-up. */
    Operation operation(String method, String path) {
        JsonNode op = doc.path("paths").path(path).path(method.toLowerCase());
        if (op.isMissingNode()) throw new IllegalStateException(method + " " + path + " is routed but not in openapi.json");
        Map<String, Param> query = new LinkedHashMap<>();
        Map<String, Param> inPath = new LinkedHashMap<>();
        List<JsonNode> params = new ArrayList<>();
        doc.path("paths").path(path).path("parameters").forEach(params::add);
        op.path("parameters").forEach(params::add);
        for (JsonNode p : params) {
            JsonNode param = resolve(p);
            JsonNode schema = resolve(param.path("schema"));
            Param parsed = new Param(param.path("name").asText(), param.path("required").asBoolean(false), schema,
                    Optional.ofNullable(schema.path("pattern").textValue()).map(java.util.regex.Pattern::compile),
                    param.path("description").asText(schema.path("description").asText("")));
            (param.path("in").asText().equals("path") ? inPath : query).put(parsed.name(), parsed);
        }
        Map<String, Optional<Schema>> body = new LinkedHashMap<>();
        JsonNode requestBody = resolve(op.path("requestBody"));
        String pointer = "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method.toLowerCase() + "/requestBody/content/";
        for (Map.Entry<String, JsonNode> c : requestBody.path("content").properties())
            body.put(c.getKey(), c.getKey().equals("application/json")
                    ? Optional.of(registry.getSchema(SchemaLocation.of(BASE + pointer + c.getKey().replace("/", "~1") + "/schema")))
                    : Optional.empty());
        Set<Integer> statuses = new TreeSet<>();
        op.path("responses").fieldNames().forEachRemaining(s -> statuses.add(Integer.parseInt(s)));
        return new Operation(method, path, query, inPath, body, statuses,
                resolve(requestBody.path("content").path("application/json").path("schema")), doc);
    }

    private JsonNode resolve(JsonNode node) {
        String ref = node.path("$ref").asText();
        return ref.startsWith("#/") ? resolve(doc.at(ref.substring(1))) : node;
    }

    /** A documented parameter: its name, whether it must be given, its schema and the schema's pattern compiled. */
    record Param(String name, boolean required, JsonNode schema, Optional<java.util.regex.Pattern> pattern, String description) {}

    /**
     * One documented operation and its checks.
     *
     * @param body     request media types; a JSON one carries its compiled schema, others (tar.gz) are the handler's
     * @param statuses the response statuses the document lists, for the tests that hold responses to them
     */
    record Operation(String method, String path, Map<String, Param> query, Map<String, Param> pathParams,
                     Map<String, Optional<Schema>> body, Set<Integer> statuses, JsonNode jsonSchema, JsonNode doc) {

        /** Refuses (400, 413, 415) whatever the document does not allow; a JSON body is left parsed for the handler. */
        void check(Context ctx, long maxBody, java.time.Duration bodyTimeout) {
            Map<String, List<String>> given;
            Params.utf8(ctx.queryString());
            try {
                given = ctx.queryParamMap();
            } catch (RuntimeException e) {
                throw AegisException.invalid("query", "the query string is not valid URL encoding");
            }
            for (Map.Entry<String, List<String>> q : given.entrySet()) {
                Param p = query.get(q.getKey());
                if (p == null)
                    throw AegisException.invalid(Words.cut(q.getKey()), query.isEmpty() ? "unknown query parameter; " + method + " "
                            + path + " takes none" : "unknown query parameter; allowed: " + String.join(", ", query.keySet()));
                if (q.getValue().isEmpty()) throw AegisException.invalid(p.name(), "its value is not valid URL encoding (use %XX escapes)");
                if (q.getValue().size() > 1) throw AegisException.invalid(p.name(), "is given " + q.getValue().size() + " times; give it once");
                Params.check(p, q.getValue().getFirst());
            }
            for (Param p : query.values())
                if (p.required() && !given.containsKey(p.name()))
                    throw AegisException.invalid(p.name(), "is required" + (p.description().isEmpty() ? "" : " (" + p.description() + ")"));
            for (Param p : pathParams.values()) Params.check(p, ctx.pathParam(p.name()));
            if (body.isEmpty()) noBody(ctx, maxBody, bodyTimeout);
            else body(ctx, maxBody, bodyTimeout);
        }

        private void body(Context ctx, long maxBody, java.time.Duration bodyTimeout) {
            String type = Optional.ofNullable(ctx.contentType()).orElse("").split(";")[0].strip().toLowerCase();
            if (!body.containsKey(type))
                throw new AegisException("unsupported_media_type", "Content-Type \"" + type + "\" is not accepted by " + method + " "
                        + path + "; use " + String.join(" or ", body.keySet()));
            Optional<Schema> schema = body.get(type);
            if (schema.isEmpty()) return; // a binary upload: its handler reads it, with the same size cap
            byte[] bytes = Bodies.bytes(ctx, maxBody, bodyTimeout);
            JsonNode node = parse(bytes);
            if (node.isMissingNode()) throw AegisException.invalid("body", "is required: " + Words.allowed(jsonSchema));
            integers(node, jsonSchema, "");
            List<com.networknt.schema.Error> errors;
            try {
                errors = schema.get().validate(new String(bytes, StandardCharsets.UTF_8), InputFormat.JSON);
            } catch (tools.jackson.core.JacksonException e) { // the validator's parser (Jackson 3) is stricter in places
                throw new AegisException("invalid_json", "body is not valid JSON: " + e.getOriginalMessage());
            }
            if (!errors.isEmpty()) throw Words.violation(errors.getFirst(), node, doc);
            ctx.attribute(BODY, node);
        }

        /**
         * Numbers where the schema wants an integer must be whole and fit a long: the validator cannot compare 1e30 with
         * a maximum (it throws), and the handlers read longs.
         */
        private void integers(JsonNode value, JsonNode schema, String at) {
            if (schema.path("type").asText().equals("integer") && value.isNumber() && !(value.isIntegralNumber() && value.canConvertToLong()))
                throw AegisException.invalid(at, Words.shown(value) + " is not an integer" + (schema.has("minimum") && schema.has("maximum")
                        ? " from " + schema.get("minimum").asLong() + " to " + schema.get("maximum").asLong() : ""));
            if (!value.isObject()) return;
            for (Map.Entry<String, JsonNode> p : schema.path("properties").properties()) {
                JsonNode sub = p.getValue();
                while (sub.has("$ref")) sub = doc.at(sub.get("$ref").asText().substring(1));
                if (value.has(p.getKey())) integers(value.get(p.getKey()), sub, at.isEmpty() ? p.getKey() : at + "." + p.getKey());
            }
        }

        /** Without a documented body, only nothing or an empty JSON object (what clients send with a bare POST) passes. */
        private void noBody(Context ctx, long maxBody, java.time.Duration bodyTimeout) {
            if (ctx.req().getContentLengthLong() == 0 || ctx.req().getContentLengthLong() < 0 && ctx.header("Transfer-Encoding") == null) return;
            byte[] bytes = Bodies.bytes(ctx, maxBody, bodyTimeout);
            if (bytes.length == 0) return;
            JsonNode node = parse(bytes);
            if (node.isObject() && node.isEmpty()) return;
            throw AegisException.invalid("body", method + " " + path + " takes no body (or an empty JSON object {})");
        }

        /** The body as a tree; a missing node when it is empty. */
        private static JsonNode parse(byte[] bytes) {
            try {
                JsonNode node = Bodies.JSON.readTree(bytes);
                return node == null ? com.fasterxml.jackson.databind.node.MissingNode.getInstance() : node;
            } catch (JacksonException e) {
                throw Bodies.notJson(e);
            } catch (IOException e) {
                throw new AegisException("invalid_json", "body is not valid JSON: " + e.getMessage());
            } catch (NumberFormatException e) { // 1e99999999999: a number no one can hold
                throw new AegisException("invalid_json", "body holds a number out of any range: " + Words.cut(e.getMessage()));
            }
        }
    }
}
