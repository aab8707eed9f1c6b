package dev.aegis.core;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.util.JsonParserDelegate;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import dev.aegis.core.InvalidManifestException.Violation;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/** Reads {@code agent.yaml} text into a {@link Manifest}, validated against {@code agent.schema.json}. */
public final class ManifestParser {
    /** A manifest is about 1 KiB. SnakeYAML checks its own limit only after scanning a whole token, which for a
     *  multi-megabyte scalar takes seconds, so the length is checked before parsing starts. */
    static final int MAX_CHARS = 64 * 1024;
    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .loaderOptions(loaderOptions())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            // YAML reads "key:" as null; Jackson's default reads it as "", which would hide a missing value.
            .enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL)
            // The schema is four levels deep; anything much deeper is an attack, not a manifest.
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(32).build())
            .build());

    private ManifestParser() {}

    /**
     * @param yaml   the file's text
     * @param source what to call the file in errors, e.g. {@code examples/summarizer/agent.yaml}
     * @throws InvalidManifestException naming every bad field
     */
    public static Manifest parse(String yaml, String source) {
        if (yaml.length() > MAX_CHARS)
            throw invalid(source, "the file is " + yaml.length() + " characters long; agent.yaml may be at most " + MAX_CHARS);
        JsonNode root = read(yaml, source);
        List<Violation> violations = new ArrayList<>(ManifestSchema.check(root));
        // A field the schema already rejected is not reported again by the finer rules.
        for (Violation v : ManifestRules.check(root))
            if (violations.stream().noneMatch(s -> v.path().equals(s.path()) || v.path().startsWith(s.path() + ".")
                    || v.path().startsWith(s.path() + "[")))
                violations.add(v);
        if (!violations.isEmpty()) throw new InvalidManifestException(source, violations);
        try {
            return ManifestMapping.toManifest(root);
        } catch (IllegalArgumentException e) {
            // The records re-check their invariants; reaching here means the schema and rules missed a case.
            throw new InvalidManifestException(source, List.of(new Violation("", e.getMessage())));
        }
    }

    private static JsonNode read(String yaml, String source) {
        try (JsonParser parser = new NoAliases(YAML.createParser(yaml))) {
            JsonNode root = YAML.readTree(parser);
            if (root == null || root.isMissingNode() || root.isNull()) throw invalid(source, "the file is empty");
            if (!root.isObject())
                throw invalid(source, "the top level is " + (root.isArray() ? "a list" : "a single value")
                        + "; expected a mapping of fields such as name, version, runtime, entrypoint");
            if (parser.nextToken() != null)
                throw invalid(source, "holds more than one YAML document; agent.yaml holds exactly one");
            return root;
        } catch (JsonProcessingException e) {
            throw invalid(source, e);
        } catch (IOException e) {
            throw invalid(source, "cannot be read as YAML: " + e.getMessage());
        }
    }

    private static InvalidManifestException invalid(String source, JsonProcessingException e) {
        var at = e.getLocation();
        String line = at == null ? "" : "line " + at.getLineNr() + ", column " + at.getColumnNr();
        if (e.getCause() instanceof MarkedYAMLException m)
            return invalid(source, "YAML syntax error at " + line + ": " + m.getProblem());
        String path = e.getProcessor() instanceof JsonParser p
                ? pointerToDotted(p.getParsingContext().pathAsPointer().toString()) : "";
        String message = e.getOriginalMessage().lines().findFirst().orElse("");
        if (message.startsWith("Duplicate field"))
            message = "is written twice (" + line + "); each key may appear once";
        else if (message.startsWith("Expected a field name"))  // Jackson names SnakeYAML event classes here
            message = line + ": a key must be plain text, not a list, a mapping or an alias";
        else if (!line.isEmpty())
            message = line + ": " + message;
        return new InvalidManifestException(source, List.of(new Violation(path, message)));
    }

    private static InvalidManifestException invalid(String source, String message) {
        return new InvalidManifestException(source, List.of(new Violation("", message)));
    }

    private static String pointerToDotted(String pointer) {
        StringBuilder sb = new StringBuilder();
        for (String part : pointer.isEmpty() ? new String[0] : pointer.substring(1).split("/"))
            sb.append(part.matches("[0-9]+") ? "[" + part + "]" : (sb.isEmpty() ? "" : ".") + part);
        return sb.toString();
    }

    private static LoaderOptions loaderOptions() {
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit(MAX_CHARS);
        options.setMaxAliasesForCollections(0);
        options.setNestingDepthLimit(32);
        return options;
    }

    /**
     * Refuses YAML aliases ({@code *name}). Jackson reads an alias as the anchor's name instead of its value,
     * which would silently change the manifest; and aliases are how "billion laughs" bombs grow.
     */
    private static final class NoAliases extends JsonParserDelegate {
        NoAliases(JsonParser parser) {
            super(parser);
        }

        @Override
        public JsonToken nextToken() throws IOException {
            JsonToken token = super.nextToken();
            if (((YAMLParser) delegate).isCurrentAlias())
                throw new JsonParseException(this, "YAML aliases (*name) are not allowed in agent.yaml; write the value out");
            return token;
        }
    }
}
