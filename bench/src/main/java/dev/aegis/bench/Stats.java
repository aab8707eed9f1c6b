package dev.aegis.bench;

import java.util.Arrays;

/** Percentiles of a set of durations in milliseconds. */
record Stats(double p50, double p99, double mean, int n) {
    static Stats of(double[] millis) {
        double[] s = millis.clone();
        Arrays.sort(s);
        return new Stats(pct(s, 50), pct(s, 99), Arrays.stream(s).average().orElse(0), s.length);
    }

    private static double pct(double[] sorted, int p) {
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    String row(String name) {
        return String.format("%-34s n=%4d  p50=%7.2f ms  p99=%7.2f ms  mean=%7.2f ms", name, n, p50, p99, mean);
    }
}
