package dev.aegis.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The OpenAPI 3.1 document of the public API ({@code openapi.json} on the classpath), read once; served at {@code /openapi.json}. */
public final class OpenApi {
    private static final String DOCUMENT = load();

    private OpenApi() {}

    /** The document as JSON text. */
    public static String document() {
        return DOCUMENT;
    }

    private static String load() {
        try (InputStream in = OpenApi.class.getResourceAsStream("/openapi.json")) {
            if (in == null) throw new IllegalStateException("openapi.json is missing from the classpath");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read openapi.json", e);
        }
    }
}
