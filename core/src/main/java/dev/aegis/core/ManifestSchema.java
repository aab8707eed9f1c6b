package dev.aegis.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.path.NodePath;
import dev.aegis.core.InvalidManifestException.Violation;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

/**
 * {@code agent.schema.json} and the translation of its validator's errors into plain sentences. The words for
 * "what is allowed" come from the schema itself ({@code description}, {@code examples}, {@code enum},
 * {@code properties}), so the schema stays the single truth for the file format.
 */
final class ManifestSchema {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Schema SCHEMA;
    /** The same schema as a Jackson 2 tree, to look up hints; the validator works on Jackson 3 trees. */
    private static final JsonNode TREE;

    static {
        try (var in = ManifestSchema.class.getResourceAsStream("/agent.schema.json")) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            TREE = JSON.readTree(text);
            SCHEMA = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(text, InputFormat.JSON);
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private ManifestSchema() {}

    static List<Violation> check(JsonNode root) {
        List<Violation> violations = new ArrayList<>();
        outOfRange(root, "", violations);
        if (!violations.isEmpty()) return violations;
        String json;
        try {
            json = JSON.writeValueAsString(root);
        } catch (Exception e) {
            throw new IllegalStateException("a YAML tree must serialize as JSON", e);
        }
        for (Error e : SCHEMA.validate(json, InputFormat.JSON)) violations.add(translate(e, root));
        return violations.stream().distinct().toList();
    }

    // networknt 3.0.9 throws where a float beyond the long range meets an integer maximum (pids: 1e30), and
    // Jackson writes non-finite floats as strings; such numbers never reach the validator.
    private static void outOfRange(JsonNode node, String path, List<Violation> out) {
        if (node.isFloatingPointNumber() && !(Math.abs(node.asDouble()) < 1e15))
            out.add(new Violation(path, node.asDouble() + " is out of range; numbers in agent.yaml stay below 1e15"));
        if (node.isArray()) for (int i = 0; i < node.size(); i++) outOfRange(node.get(i), path + "[" + i + "]", out);
        for (var field : node.properties()) outOfRange(field.getValue(), child(path, field.getKey()), out);
    }

    private static Violation translate(Error e, JsonNode root) {
        NodePath at = e.getInstanceLocation();
        String path = dotted(at);
        JsonNode value = root;
        for (int i = 0; i < at.getNameCount(); i++)
            value = at.getElement(i) instanceof Integer n ? value.path(n) : value.path(at.getName(i));
        NodePath keyword = e.getSchemaLocation().getFragment();
        JsonNode sub = TREE;  // the schema object holding the keyword that failed
        for (int i = 0; i < keyword.getNameCount() - 1; i++) sub = sub.path(keyword.getName(i));
        String v = show(value);
        return switch (e.getKeyword()) {
            case "additionalProperties" -> new Violation(child(path, e.getProperty()),
                    "unknown field; allowed: " + String.join(", ", names(sub.path("properties"))));
            case "required" -> new Violation(child(path, e.getProperty()),
                    "is required: " + allowed(sub.path("properties").path(e.getProperty())));
            case "type" -> new Violation(path, (value.isContainerNode() || value.isNull() ? "is " : v + " is ") + typeOf(value)
                    + "; expected " + allowed(sub));
            case "enum" -> new Violation(path, v + " is not allowed; use " + allowed(sub));
            case "pattern" -> new Violation(path, v + " is not " + allowed(sub).replace(", e.g. ", "; use e.g. "));
            case "minItems", "minLength" -> new Violation(path, "must not be empty; expected " + allowed(sub));
            case "maxLength" -> new Violation(path, v + " is " + value.asText().length() + " characters long; use at most "
                    + sub.path("maxLength"));
            case "minimum" -> new Violation(path, v + " is too small; use at least " + sub.path("minimum"));
            case "exclusiveMinimum" -> new Violation(path, v + " is too small; use more than " + sub.path("exclusiveMinimum"));
            case "maximum" -> new Violation(path, v + " is too large; use at most " + sub.path("maximum"));
            case "uniqueItems" -> new Violation(path, "lists " + firstDuplicate(value) + " twice; name each once");
            default -> new Violation(path, v + " breaks the schema rule \"" + e.getKeyword() + "\"");
        };
    }

    /** What a schema allows, in words: its enum, or its description and examples, or its type. */
    private static String allowed(JsonNode sub) {
        if (sub.has("enum")) return "one of " + join(sub.get("enum"));
        String what = sub.has("description") ? sub.get("description").asText() : typeWords(sub.path("type"));
        return sub.has("examples") ? what + ", e.g. " + join(sub.get("examples")) : what;
    }

    private static String typeWords(JsonNode type) {
        List<String> words = new ArrayList<>();
        for (JsonNode t : type.isArray() ? type : List.of(type))
            words.add(switch (t.asText()) {
                case "object" -> "a mapping";
                case "array" -> "a list";
                case "integer" -> "a whole number";
                case "number" -> "a number";
                case "boolean" -> "true or false";
                case "null" -> "null";
                default -> "a string";
            });
        return String.join(" or ", words);
    }

    private static String typeOf(JsonNode value) {
        if (value.isObject()) return "a mapping";
        if (value.isArray()) return "a list";
        if (value.isIntegralNumber()) return "a whole number";
        if (value.isNumber()) return "a number";
        if (value.isBoolean()) return "true or false";
        if (value.isNull()) return "empty";
        return "a string";
    }

    /** A scalar as the user wrote it (strings quoted, long ones cut); containers by kind, their content can be long. */
    private static String show(JsonNode value) {
        if (value.isObject()) return "a mapping";
        if (value.isArray()) return "a list";
        if (value.isTextual() && value.asText().length() > 60)
            return TextNode.valueOf(value.asText().substring(0, 40)).toString().replaceFirst("\"$", "...\"");
        return value.isNull() ? "null" : value.toString();
    }

    private static String join(JsonNode values) {
        return StreamSupport.stream(values.spliterator(), false)
                .map(n -> n.isTextual() ? n.asText() : n.toString()).collect(Collectors.joining(", "));
    }

    private static List<String> names(JsonNode object) {
        List<String> names = new ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static String firstDuplicate(JsonNode list) {
        Set<JsonNode> seen = new HashSet<>();
        for (JsonNode n : list) if (!seen.add(n)) return show(n);
        return "an entry";
    }

    static String dotted(NodePath at) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < at.getNameCount(); i++)
            sb.append(at.getElement(i) instanceof Integer n ? "[" + n + "]" : (i == 0 ? "" : ".") + at.getName(i));
        return sb.toString();
    }

    private static String child(String path, String name) {
        return path.isEmpty() ? name : path + "." + name;
    }
}
