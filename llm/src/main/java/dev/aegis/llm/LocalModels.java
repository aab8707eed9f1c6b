package dev.aegis.llm;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The "models" of {@link LocalModelServer}: deterministic, so tests and demos can assert what comes back, and useful
 * enough to read. Chat answers are an extractive summary (the sentences carrying the text's most frequent content
 * words, in their order, as the summarizer example does); embeddings hash words and word pairs into a unit vector,
 * so texts sharing words are near each other.
 */
final class LocalModels {
    private static final Set<String> STOP = Set.of(("a about above after again against all am an and any are as at be because been "
            + "before being below between both but by can could did do does doing down during each few for from further had has have "
            + "having he her here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not "
            + "now of off on once only or other our ours ourselves out over own same she should so some such than that the their "
            + "theirs them themselves then there these they this those through to too under until up very was we were what when where "
            + "which while who whom why will with would you your yours yourself yourselves also may might must shall one two").split(" "));
    private static final Pattern SENTENCE_END = Pattern.compile("(?<=[.!?])\\s+(?=[A-Z0-9\"'])");
    private static final Pattern WORD = Pattern.compile("[a-z][a-z'-]+");

    private LocalModels() {}

    /** The answer to a prompt: its best {@code max} sentences, in order; the prompt itself when it has no content words. */
    static String summarize(String text, int max) {
        List<String> sentences = new ArrayList<>();
        for (String part : SENTENCE_END.split(text.strip())) if (!part.isBlank()) sentences.add(part.strip().replaceAll("\\s+", " "));
        if (sentences.isEmpty()) return "I received an empty message.";
        Map<String, Integer> freq = new HashMap<>();
        for (String s : sentences) for (String w : words(s)) freq.merge(w, 1, Integer::sum);
        if (freq.isEmpty() || sentences.size() <= max) return String.join(" ", sentences);
        double top = freq.values().stream().mapToInt(Integer::intValue).max().orElse(1);
        List<double[]> scored = new ArrayList<>();
        for (int i = 0; i < sentences.size(); i++) {
            List<String> ws = words(sentences.get(i));
            double sum = 0;
            for (String w : ws) sum += freq.get(w) / top;
            scored.add(new double[] {ws.isEmpty() ? 0 : sum / Math.sqrt(ws.size()), i});
        }
        scored.sort(Comparator.<double[]>comparingDouble(a -> -a[0]).thenComparingDouble(a -> a[1]));
        List<Integer> picked = new ArrayList<>();
        for (int i = 0; i < max; i++) picked.add((int) scored.get(i)[1]);
        picked.sort(null);
        StringBuilder b = new StringBuilder();
        for (int i : picked) b.append(b.isEmpty() ? "" : " ").append(sentences.get(i));
        return b.toString();
    }

    private static List<String> words(String sentence) {
        List<String> out = new ArrayList<>();
        Matcher m = WORD.matcher(sentence.toLowerCase(Locale.ROOT));
        while (m.find()) if (m.group().length() > 2 && !STOP.contains(m.group())) out.add(m.group());
        return out;
    }

    /** A unit vector of {@code dims} floats: each word and each pair of neighbouring words adds ±1 at a hashed place. */
    static float[] embed(String text, int dims) {
        float[] v = new float[dims];
        List<String> ws = new ArrayList<>();
        Matcher m = Pattern.compile("[\\p{L}\\p{N}]+").matcher(text.toLowerCase(Locale.ROOT));
        while (m.find()) ws.add(m.group());
        for (int i = 0; i < ws.size(); i++) {
            add(v, ws.get(i), 1f);
            if (i > 0) add(v, ws.get(i - 1) + " " + ws.get(i), 0.5f);
        }
        double norm = 0;
        for (float x : v) norm += x * x;
        if (norm == 0) {
            v[0] = 1;
            return v;
        }
        float inv = (float) (1 / Math.sqrt(norm));
        for (int i = 0; i < dims; i++) v[i] *= inv;
        return v;
    }

    private static void add(float[] v, String feature, float weight) {
        byte[] h = sha256(feature);
        int at = Math.floorMod(((h[0] & 0xff) << 24) | ((h[1] & 0xff) << 16) | ((h[2] & 0xff) << 8) | (h[3] & 0xff), v.length);
        v[at] += (h[4] & 1) == 0 ? weight : -weight;
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Splits an answer into stream pieces: each word with the space before it. */
    static List<String> pieces(String answer) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("\\s*\\S+").matcher(answer);
        while (m.find()) out.add(m.group());
        return out;
    }
}
