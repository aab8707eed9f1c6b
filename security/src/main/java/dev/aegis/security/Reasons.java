package dev.aegis.security;

/** Puts client-supplied text into deny reasons and audit targets: quoted, printable, and short. */
final class Reasons {
    private static final int MAX = 120;

    private Reasons() {}

    static String quote(String text) {
        return "\"" + clip(text) + "\"";
    }

    /** Replaces control and non-ASCII characters with {@code ?} and cuts at {@value MAX} characters. */
    static String clip(String text) {
        StringBuilder b = new StringBuilder(Math.min(text.length(), MAX + 3));
        for (int i = 0; i < text.length() && i < MAX; i++) {
            char c = text.charAt(i);
            b.append(c < 0x20 || c > 0x7e ? '?' : c);
        }
        if (text.length() > MAX) b.append("...");
        return b.toString();
    }
}
