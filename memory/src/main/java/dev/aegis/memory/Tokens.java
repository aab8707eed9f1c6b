package dev.aegis.memory;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tokens as AEGIS counts them for chunking and budgets: words and single punctuation marks. The embedding models'
 * WordPiece tokenizers split a little finer (about 1.2 pieces per such token on English logs), which the chunk
 * size leaves room for; counting here needs no model loaded.
 */
final class Tokens {
    private static final Pattern TOKEN = Pattern.compile("[\\p{L}\\p{N}_]+|[^\\s\\p{L}\\p{N}_]");

    private Tokens() {}

    static int count(String text) {
        Matcher m = TOKEN.matcher(text);
        int n = 0;
        while (m.find()) n++;
        return n;
    }

    /** Start offsets of every token, and the end of the last, so chunks cut the original text at token edges. */
    static List<int[]> spans(String text) {
        List<int[]> spans = new ArrayList<>();
        Matcher m = TOKEN.matcher(text);
        while (m.find()) spans.add(new int[] {m.start(), m.end()});
        return spans;
    }

    /**
     * Windows of at most {@code size} tokens, each starting {@code size - overlap} tokens after the previous one,
     * cut from the original text (whitespace and all). A text that fits is one chunk.
     */
    static List<String> chunks(String text, int size, int overlap) {
        if (overlap < 0 || overlap >= size) throw new IllegalArgumentException("need 0 <= overlap < size");
        List<int[]> spans = spans(text);
        if (spans.isEmpty()) return List.of();
        if (spans.size() <= size) return List.of(text.strip());
        List<String> out = new ArrayList<>();
        for (int start = 0; ; start += size - overlap) {
            int end = Math.min(spans.size(), start + size);
            out.add(text.substring(spans.get(start)[0], spans.get(end - 1)[1]));
            if (end == spans.size()) break;
        }
        return out;
    }
}
