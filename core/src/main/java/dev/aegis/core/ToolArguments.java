package dev.aegis.core;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Checks a tool call's arguments against the tool's input schema before the call leaves AEGIS: a tool server sees
 * only arguments its own schema accepts. Schemas come from the servers (MCP {@code tools/list}); each distinct
 * schema text is compiled once.
 */
final class ToolArguments {
    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
    private static final int MAX_CACHED = 1_000;
    private static final Map<String, Schema> COMPILED = new ConcurrentHashMap<>();

    private ToolArguments() {}

    /** Empty when the arguments match; else an {@code invalid_request} naming the argument and the rule. */
    static Optional<AegisException> check(Tools.Tool tool, String arguments) {
        Schema schema;
        try {
            if (COMPILED.size() > MAX_CACHED) COMPILED.clear();
            schema = COMPILED.computeIfAbsent(tool.inputSchema(), text -> REGISTRY.getSchema(text, InputFormat.JSON));
        } catch (RuntimeException e) {
            // A server with a schema we cannot read: its tool is not callable, rather than called unchecked.
            return Optional.of(new AegisException("tool_server_failed", "tool " + tool.name() + " has an input schema AEGIS cannot read: "
                    + e.getMessage()));
        }
        List<Error> errors = schema.validate(arguments, InputFormat.JSON);
        if (errors.isEmpty()) return Optional.empty();
        Error e = errors.getFirst();
        String loc = e.getInstanceLocation().toString();
        if (loc.startsWith("$")) loc = loc.substring(1);
        if (loc.startsWith("/")) loc = loc.substring(1).replace('/', '.');
        String at = "arguments" + (loc.isEmpty() ? "" : loc.startsWith(".") || loc.startsWith("[") ? loc : "." + loc);
        String field = e.getProperty() != null && e.getKeyword().equals("required") ? at + "." + e.getProperty() : at;
        return Optional.of(AegisException.invalid(field, "does not match the input schema of " + tool.name() + ": " + e.getMessage()));
    }
}
