package dev.aegis.memory;

import dev.aegis.core.Memory;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * One memory as the index holds it: the text and its metadata, and its vector once embedded.
 *
 * @param hash SHA-256 of the normalised text: the same content in the same namespace is stored once
 */
record MemoryDoc(String id, String agent, Optional<String> task, Memory.Kind kind, String text, List<String> tags,
                 Optional<Boolean> success, Instant createdAt, String hash) {
    MemoryDoc {
        tags = List.copyOf(tags);
    }

    /** Whitespace runs folded and ends trimmed, so re-logged output with other spacing is still a duplicate. */
    static String contentHash(String text) {
        return dev.aegis.core.Hashes.sha256(text.strip().replaceAll("\\s+", " "));
    }
}
