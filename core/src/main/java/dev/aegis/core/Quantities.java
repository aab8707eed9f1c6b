package dev.aegis.core;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sizes ({@code 256Mi}, {@code 1G}, {@code 1048576}) and durations ({@code 500ms}, {@code 30s}, {@code 5m},
 * {@code 1h}) as written in manifests and server config. Errors say what was wrong and what is allowed, so
 * callers can show them as they are.
 */
public final class Quantities {
    private static final Pattern SIZE = Pattern.compile("([0-9]+)([KMG]i?)?");
    private static final Pattern DURATION = Pattern.compile("([0-9]+)(ms|s|m|h)");
    static final String SIZE_EXAMPLES = "256Mi, 1Gi, 512M, 1048576";
    static final String DURATION_EXAMPLES = "500ms, 30s, 5m, 1h";

    private Quantities() {}

    /** Bytes in a size: binary Ki/Mi/Gi, decimal K/M/G, or bare bytes; always more than zero. */
    public static long bytes(String text) {
        Matcher m = SIZE.matcher(text);
        if (!m.matches()) throw new IllegalArgumentException(quote(text) + " is not a size; use e.g. " + SIZE_EXAMPLES);
        long unit = m.group(2) == null ? 1 : switch (m.group(2)) {
            case "K" -> 1_000L;
            case "M" -> 1_000_000L;
            case "G" -> 1_000_000_000L;
            case "Ki" -> 1L << 10;
            case "Mi" -> 1L << 20;
            default -> 1L << 30;
        };
        return positive(text, m.group(1), unit, "size");
    }

    /** A duration in whole ms, s, m or h; always more than zero. */
    public static Duration duration(String text) {
        Matcher m = DURATION.matcher(text);
        if (!m.matches())
            throw new IllegalArgumentException(quote(text) + " is not a duration; use e.g. " + DURATION_EXAMPLES);
        long unit = switch (m.group(2)) {
            case "ms" -> 1;
            case "s" -> 1_000;
            case "m" -> 60_000;
            default -> 3_600_000;
        };
        return Duration.ofMillis(positive(text, m.group(1), unit, "duration"));
    }

    /** The shortest exact form, e.g. {@code 256Mi}; used in policy reasons so they read like manifests. */
    public static String formatBytes(long bytes) {
        String[] units = {"Gi", "Mi", "Ki"};
        for (int i = 0; i < units.length; i++) {
            long unit = 1L << (10 * (3 - i));
            if (bytes >= unit && bytes % unit == 0) return bytes / unit + units[i];
        }
        return Long.toString(bytes);
    }

    public static String formatDuration(Duration d) {
        long ms = d.toMillis();
        if (ms % 3_600_000 == 0) return ms / 3_600_000 + "h";
        if (ms % 60_000 == 0) return ms / 60_000 + "m";
        if (ms % 1_000 == 0) return ms / 1_000 + "s";
        return ms + "ms";
    }

    private static long positive(String text, String digits, long unit, String kind) {
        long n;
        try {
            n = Math.multiplyExact(Long.parseLong(digits), unit);
        } catch (ArithmeticException | NumberFormatException e) {
            throw new IllegalArgumentException(quote(text) + " is too large for a " + kind);
        }
        if (n == 0) throw new IllegalArgumentException(quote(text) + " must be more than 0");
        return n;
    }

    private static String quote(String s) {
        return "\"" + s + "\"";
    }
}
