package dev.aegis.audit;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/**
 * Record times as text: UTC, exactly six fraction digits ({@code 2026-11-25T10:00:00.123456Z}), one spelling
 * per instant. Written and read for every record, so the date part is cached per second: log times are
 * monotonic, and java.time's general formatter was the largest cost of appending and verifying.
 */
final class RecordTime {
    private record Second(long epochSecond, String prefix) {}

    private static final ThreadLocal<Second[]> CACHE = ThreadLocal.withInitial(() -> new Second[1]);

    private RecordTime() {}

    static String format(Instant t) {
        Second s = second(t.getEpochSecond());
        StringBuilder b = new StringBuilder(27).append(s.prefix());
        String micros = Integer.toString(t.getNano() / 1000);
        for (int i = micros.length(); i < 6; i++) b.append('0');
        return b.append(micros).append('Z').toString();
    }

    /** Parses exactly the format of {@link #format}; anything else is an error. */
    static Instant parse(String text) {
        if (text.length() != 27 || text.charAt(19) != '.' || text.charAt(26) != 'Z') {
            throw new DateTimeParseException("time must look like 2026-11-25T10:00:00.123456Z", text, 0);
        }
        Second cached = CACHE.get()[0];
        long epochSecond = cached != null && text.startsWith(cached.prefix())
                ? cached.epochSecond()
                : LocalDateTime.parse(text.substring(0, 19)).toEpochSecond(ZoneOffset.UTC);
        int micros = 0;
        for (int i = 20; i < 26; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') throw new DateTimeParseException("fraction must be six digits", text, i);
            micros = micros * 10 + (c - '0');
        }
        second(epochSecond);
        return Instant.ofEpochSecond(epochSecond, micros * 1000L);
    }

    private static Second second(long epochSecond) {
        Second[] cache = CACHE.get();
        if (cache[0] == null || cache[0].epochSecond() != epochSecond) {
            String date = LocalDateTime.ofEpochSecond(epochSecond, 0, ZoneOffset.UTC).toString(); // omits :00 seconds
            if (date.length() == 16) date += ":00";
            cache[0] = new Second(epochSecond, date + ".");
        }
        return cache[0];
    }
}
