package dev.aegis.core;

import java.util.List;
import java.util.stream.Collectors;

/** A manifest broke one or more rules; each violation names the field path, the rule and what is allowed. */
public class InvalidManifestException extends AegisException {
    private final List<Violation> violations;

    public InvalidManifestException(String source, List<Violation> violations) {
        super("invalid_manifest", source + ": " + violations.stream().map(Violation::toString)
                .collect(Collectors.joining("; ")), violations.isEmpty() ? null : violations.getFirst().path());
        this.violations = List.copyOf(violations);
    }

    public List<Violation> violations() {
        return violations;
    }

    /** @param path dotted field path such as {@code resources.memory} or {@code entrypoint[0]}; empty for the root */
    public record Violation(String path, String message) {
        @Override
        public String toString() {
            return path.isEmpty() ? message : path + ": " + message;
        }
    }
}
