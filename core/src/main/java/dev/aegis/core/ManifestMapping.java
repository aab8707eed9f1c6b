package dev.aegis.core;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Maps a YAML tree that passed the schema and {@link ManifestRules} onto the {@link Manifest} records; a missing
 * optional part takes the record's default, field by field.
 */
final class ManifestMapping {
    private ManifestMapping() {}

    static Manifest toManifest(JsonNode root) {
        JsonNode image = root.path("image");
        return new Manifest(
                root.get("name").asText(),
                root.get("version").asText(),
                root.get("runtime").asText(),
                strings(root.get("entrypoint")),
                image.isTextual() ? Optional.of(image.asText()) : Optional.empty(),
                resources(root.path("resources")),
                permissions(root.path("permissions")),
                strings(root.path("secrets")),
                pool(root.path("pool")));
    }

    private static Manifest.Resources resources(JsonNode r) {
        Manifest.Resources d = Manifest.Resources.DEFAULT;
        return new Manifest.Resources(
                r.has("cpu") ? r.get("cpu").asDouble() : d.cpu(),
                r.has("memory") ? bytes(r.get("memory")) : d.memoryBytes(),
                r.has("pids") ? r.get("pids").asInt() : d.pids(),
                r.has("disk") ? bytes(r.get("disk")) : d.diskBytes(),
                r.has("timeout") ? Quantities.duration(r.get("timeout").asText()) : d.timeout());
    }

    private static Manifest.Permissions permissions(JsonNode p) {
        JsonNode fs = p.path("filesystem");
        JsonNode llm = p.path("llm");
        return new Manifest.Permissions(
                new Manifest.Network(strings(p.path("network").path("egress"))),
                new Manifest.Filesystem(strings(fs.path("read")), strings(fs.path("write"))),
                strings(p.path("tools")),
                p.has("memory") ? Manifest.MemoryAccess.fromYaml(p.get("memory").asText()).orElseThrow()
                        : Manifest.Permissions.NONE.memory(),
                strings(p.path("locks")),
                new Manifest.Llm(strings(llm.path("models")),
                        llm.has("max_tokens_per_task") ? llm.get("max_tokens_per_task").asLong() : Manifest.Llm.NONE.maxTokensPerTask()),
                new Manifest.Bus(strings(p.path("bus").path("publish")), strings(p.path("bus").path("subscribe"))),
                strings(p.path("delegate")),
                p.hasNonNull("memory_namespace") ? java.util.Optional.of(p.get("memory_namespace").asText()) : java.util.Optional.empty());
    }

    private static Manifest.Pool pool(JsonNode p) {
        Manifest.Pool d = Manifest.Pool.DEFAULT;
        return new Manifest.Pool(p.has("warm") ? p.get("warm").asInt() : d.warm(), p.has("max") ? p.get("max").asInt() : d.max());
    }

    // YAML lets a size be a bare number of bytes (memory: 1048576) as well as a string.
    private static long bytes(JsonNode size) {
        return size.isNumber() ? size.asLong() : Quantities.bytes(size.asText());
    }

    private static List<String> strings(JsonNode list) {
        List<String> out = new ArrayList<>();
        for (JsonNode n : list) out.add(n.asText());
        return out;
    }
}
