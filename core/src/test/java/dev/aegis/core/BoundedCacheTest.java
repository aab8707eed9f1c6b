package dev.aegis.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BoundedCacheTest {
    @Test
    void keepsWhatFitsAndEmptiesWhenFullByCountOrWeight() {
        BoundedCache<String, String> c = new BoundedCache<>(3, 100, 40);
        c.put("a", "A", 10);
        c.put("huge", "H", 41);
        assertThat(c.get("a")).isEqualTo("A");
        assertThat(c.get("huge")).as("heavier than an entry may be").isNull();
        c.put("b", "B", 10);
        c.put("c", "C", 10);
        c.put("d", "D", 10); // a fourth entry: emptied first
        assertThat(c.get("a")).isNull();
        assertThat(c.get("d")).isEqualTo("D");
        c.put("e", "E", 40);
        c.put("f", "F", 40);
        c.put("g", "G", 40); // 10 + 40 + 40 + 40 > 100: emptied first
        assertThat(c.get("d")).isNull();
        assertThat(c.get("g")).isEqualTo("G");
        c.remove("g");
        assertThat(c.get("g")).isNull();
    }
}
