package dev.aegis.core;

/** Reads {@code agent.yaml} text into a {@link Manifest}, validated against {@code agent.schema.json}. */
public final class ManifestParser {
    private ManifestParser() {}

    /**
     * @param yaml   the file's text
     * @param source what to call the file in errors, e.g. {@code examples/summarizer/agent.yaml}
     * @throws InvalidManifestException naming every bad field
     */
    public static Manifest parse(String yaml, String source) {
        throw new UnsupportedOperationException("TODO");
    }
}
