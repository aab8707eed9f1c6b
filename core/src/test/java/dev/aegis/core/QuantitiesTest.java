package dev.aegis.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class QuantitiesTest {
    @ParameterizedTest(name = "{0} = {1} bytes")
    @CsvSource(delimiter = '|', textBlock = """
            1048576 | 1048576 | 1Mi
            1       | 1       | 1
            2Ki     | 2048    | 2Ki
            256Mi   | 268435456 | 256Mi
            1Gi     | 1073741824 | 1Gi
            512M    | 512000000 | 500000Ki
            1K      | 1000    | 1000
            3G      | 3000000000 | 3000000000
            """)
    void sizes(String text, long bytes, String formatted) {
        assertThat(Quantities.bytes(text)).isEqualTo(bytes);
        assertThat(Quantities.formatBytes(bytes)).isEqualTo(formatted);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            500ms | PT0.5S | 500ms
            30s   | PT30S  | 30s
            90s   | PT1M30S | 90s
            5m    | PT5M   | 5m
            1h    | PT1H   | 1h
            120m  | PT2H   | 2h
            """)
    void durations(String text, Duration duration, String formatted) {
        assertThat(Quantities.duration(text)).isEqualTo(duration);
        assertThat(Quantities.formatDuration(duration)).isEqualTo(formatted);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "12XB", "1.5Gi", "-1Mi", "1mi", "1 Mi", "Mi"})
    void notASize(String text) {
        assertThatThrownBy(() -> Quantities.bytes(text)).hasMessage("\"" + text + "\" is not a size; use e.g. 256Mi, 1Gi, 512M, 1048576");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "30", "1d", "1.5s", "-1s", "30 s"})
    void notADuration(String text) {
        assertThatThrownBy(() -> Quantities.duration(text)).hasMessageContaining("is not a duration; use e.g. 500ms, 30s, 5m, 1h");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "0Gi", "0ms"})
    void zeroIsRefused(String text) {
        assertThatThrownBy(() -> {
            if (text.endsWith("ms")) Quantities.duration(text);
            else Quantities.bytes(text);
        }).hasMessageContaining("must be more than 0");
    }

    @ParameterizedTest
    @ValueSource(strings = {"9223372036854775808", "9999999999Gi"})
    void overflowIsRefused(String text) {
        assertThatThrownBy(() -> Quantities.bytes(text)).hasMessageContaining("is too large for a size");
    }
}
