package dev.aegis.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.networknt.schema.Error;
import com.networknt.schema.path.NodePath;
import dev.aegis.core.AegisException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

/**
 * Schema violations as sentences that name the field, show the bad value and say what is allowed, in words taken from
 * the OpenAPI document itself ({@code enum}, {@code minimum}, {@code description}, {@code properties}).
 */
final class Words {
    private Words() {}

    /** The first violation of a request body, as a 400 naming the field. */
    static AegisException violation(Error e, JsonNode body, JsonNode doc) {
        NodePath at = e.getInstanceLocation();
        String path = dotted(at);
        JsonNode value = body;
        for (int i = 0; i < at.getNameCount(); i++)
            value = at.getElement(i) instanceof Integer n ? value.path(n) : value.path(at.getName(i));
        NodePath keyword = e.getSchemaLocation().getFragment();
        JsonNode sub = doc; // the schema object holding the keyword that failed
        for (int i = 0; i < keyword.getNameCount() - 1; i++) sub = sub.path(keyword.getName(i));
        String field = path.isEmpty() ? "body" : path;
        String v = shown(value);
        return switch (e.getKeyword()) {
            case "additionalProperties" -> AegisException.invalid(child(path, e.getProperty()),
                    "unknown field; allowed: " + String.join(", ", names(sub.path("properties"))));
            case "required" -> AegisException.invalid(child(path, e.getProperty()),
                    "is required: " + allowed(sub.path("properties").path(e.getProperty())));
            case "type" -> AegisException.invalid(field, v + " is " + typeOf(value) + "; expected " + allowed(sub));
            case "enum" -> AegisException.invalid(field, v + " is not allowed; use one of " + join(sub.path("enum")));
            case "const" -> AegisException.invalid(field, v + " is not allowed; use " + sub.path("const"));
            case "pattern" -> AegisException.invalid(field, v + " does not match " + sub.path("pattern").asText()
                    + (sub.has("description") ? " (" + sub.path("description").asText() + ")" : ""));
            case "minLength" -> AegisException.invalid(field, v + " is too short; expected " + allowed(sub));
            case "maxLength" -> AegisException.invalid(field, "is " + value.asText().length() + " characters long; use at most "
                    + sub.path("maxLength"));
            case "minItems" -> AegisException.invalid(field, "has " + value.size() + " items; give at least " + sub.path("minItems")
                    + (sub.has("description") ? " (" + sub.path("description").asText() + ")" : ""));
            case "maxItems" -> AegisException.invalid(field, "has " + value.size() + " items; give at most " + sub.path("maxItems"));
            case "minimum" -> AegisException.invalid(field, v + " is too small; use at least " + sub.path("minimum"));
            case "maximum" -> AegisException.invalid(field, v + " is too large; use at most " + sub.path("maximum"));
            default -> AegisException.invalid(field, v + " breaks the schema rule \"" + e.getKeyword() + "\": " + e.getMessage());
        };
    }

    /** What a schema allows, in words: its enum, its range, or its description, else its type. */
    static String allowed(JsonNode schema) {
        if (schema.has("enum")) return "one of " + join(schema.get("enum"));
        String what = schema.has("description") ? schema.get("description").asText() : typeWords(schema.path("type").asText());
        if (schema.has("minimum") && schema.has("maximum"))
            what += " from " + schema.get("minimum").asLong() + " to " + schema.get("maximum").asLong();
        return what;
    }

    static String typeWords(String type) {
        return switch (type) {
            case "object" -> "a JSON object";
            case "array" -> "a list";
            case "integer" -> "an integer";
            case "number" -> "a number";
            case "boolean" -> "true or false";
            case "string" -> "a string";
            default -> "a JSON value";
        };
    }

    private static String typeOf(JsonNode value) {
        if (value.isObject()) return "an object";
        if (value.isArray()) return "a list";
        if (value.isIntegralNumber()) return "an integer";
        if (value.isNumber()) return "a number";
        if (value.isBoolean()) return "a boolean";
        if (value.isNull()) return "null";
        return "a string";
    }

    /** A value as the client sent it: strings quoted and cut when long, control characters escaped; containers by kind. */
    static String shown(JsonNode value) {
        if (value.isObject()) return "an object";
        if (value.isArray()) return "a list";
        return value.isTextual() ? shown(value.asText()) : value.toString();
    }

    static String shown(String text) {
        return TextNode.valueOf(cut(text)).toString();
    }

    /** Long input cut for messages: an error never echoes megabytes back. */
    static String cut(String text) {
        return text.length() > 60 ? text.substring(0, 40) + "..." : text;
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

    private static String dotted(NodePath at) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < at.getNameCount(); i++)
            sb.append(at.getElement(i) instanceof Integer n ? "[" + n + "]" : (i == 0 ? "" : ".") + at.getName(i));
        return sb.toString();
    }

    private static String child(String path, String name) {
        return path.isEmpty() ? name : path + "." + name;
    }
}
