package dev.aegis.core;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * An MCP tool server a tenant registered: a stdio command that AEGIS runs in its own sandbox, under its own
 * manifest (filesystem grants, egress, limits), or a remote Streamable-HTTP URL reached under the egress policy.
 * Its tools are offered to agents as {@code name.tool}.
 *
 * <p>The registration, as JSON: {@code name}; either {@code command} (argv, run with working directory /agent) or
 * {@code url}; optionally {@code permissions} ({@code filesystem}, {@code network}: as in agent.yaml) and
 * {@code resources} (as in agent.yaml; {@code timeout} bounds each tool call).
 *
 * @param spec     the registration as given (stored; re-parsed on load, so it is always checked by this version)
 * @param manifest the sandbox's manifest: entrypoint, grants and limits (for a remote server: its egress and timeout)
 */
public record ToolServer(String tenant, String name, List<String> command, Optional<String> url, Manifest manifest,
                         String spec, Instant createdAt) {
    public static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_-]{0,31}");
    /** Scheme, host (a name, IPv4, or [IPv6]), optional port, optional path; no user info. */
    private static final Pattern URL = Pattern.compile("https?://(?:[A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+\\])(?::\\d{1,5})?(?:[/?#]\\S*)?");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> FIELDS = Set.of("name", "command", "url", "permissions", "resources");
    private static final Set<String> PERMISSIONS = Set.of("filesystem", "network");

    public ToolServer {
        Objects.requireNonNull(tenant, "tenant");
        if (!NAME.matcher(name).matches()) throw AegisException.invalid("name", "\"" + name + "\" is not a tool server name ("
                + NAME.pattern() + ", e.g. fs)");
        command = List.copyOf(command);
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(manifest, "manifest");
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(createdAt, "createdAt");
    }

    public boolean remote() {
        return url.isPresent();
    }

    /**
     * @throws AegisException {@code invalid_request} naming the field, the bad value and what is allowed
     */
    public static ToolServer parse(String tenant, String spec, Instant createdAt) {
        JsonNode root;
        try {
            root = JSON.readTree(spec);
        } catch (JacksonException e) {
            throw AegisException.invalid("body", "is not JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) throw AegisException.invalid("body", "must be an object with name and command or url");
        for (var it = root.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) throw AegisException.invalid(f, "unknown field; allowed: name, command, url, permissions, resources");
        }
        JsonNode name = root.get("name");
        if (name == null || !name.isTextual()) throw AegisException.invalid("name", "is required: a string like fs");
        if (!NAME.matcher(name.asText()).matches())
            throw AegisException.invalid("name", "\"" + name.asText() + "\" is not a tool server name (" + NAME.pattern() + ", e.g. fs)");
        boolean hasCommand = root.has("command"), hasUrl = root.has("url");
        if (hasCommand == hasUrl) throw AegisException.invalid("command", "give exactly one of command (a stdio server's argv) or url (a Streamable-HTTP server)");
        List<String> command = List.of();
        Optional<String> url = Optional.empty();
        if (hasCommand) {
            JsonNode c = root.get("command");
            if (!c.isArray() || c.isEmpty()) throw AegisException.invalid("command", "must be a non-empty array of strings, e.g. [\"node\", \"/opt/mcp/server.js\"]");
            List<String> argv = new java.util.ArrayList<>();
            for (int i = 0; i < c.size(); i++) {
                if (!c.get(i).isTextual()) throw AegisException.invalid("command[" + i + "]", "must be a string");
                argv.add(c.get(i).asText());
            }
            command = argv;
        } else {
            JsonNode u = root.get("url");
            if (!u.isTextual() || !URL.matcher(u.asText()).matches())
                throw AegisException.invalid("url", u + " is not an http:// or https:// URL (e.g. https://mcp.example.com/mcp)");
            url = Optional.of(u.asText());
        }
        JsonNode perms = root.path("permissions");
        if (!perms.isMissingNode()) {
            if (!perms.isObject()) throw AegisException.invalid("permissions", "must be an object with filesystem and network");
            for (var it = perms.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!PERMISSIONS.contains(f)) throw AegisException.invalid("permissions." + f, "a tool server may be granted filesystem and network only");
            }
        }
        // The sandbox's manifest, checked by the agent.yaml parser: its errors name the same fields as this body.
        ObjectNode m = JSON.createObjectNode();
        m.put("name", "mcp-" + name.asText().replace('_', '-'));
        m.put("version", "1.0.0");
        m.put("runtime", "bubblewrap");
        var entry = m.putArray("entrypoint");
        if (command.isEmpty()) entry.add("true");
        else command.forEach(entry::add);
        if (root.has("resources")) m.set("resources", root.get("resources"));
        if (!perms.isMissingNode()) m.set("permissions", perms);
        Manifest manifest;
        try {
            manifest = ManifestParser.parse(m.toString(), "tool server " + name.asText());
        } catch (InvalidManifestException e) {
            // Each violation already names its field: the message is theirs, not the parser's "tool server x: ..." line.
            throw new AegisException("invalid_request", e.violations().stream().map(InvalidManifestException.Violation::toString)
                    .collect(java.util.stream.Collectors.joining("; ")), e.violations().getFirst().path());
        }
        return new ToolServer(tenant, name.asText(), command, url, manifest, spec, createdAt);
    }
}
