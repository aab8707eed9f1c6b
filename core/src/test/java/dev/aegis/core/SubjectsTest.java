package dev.aegis.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SubjectsTest {
    @ParameterizedTest(name = "{0} ~ {1} -> {2}")
    @CsvSource(delimiter = '|', textBlock = """
            a.b      | a.b     | true
            a.*      | a.b     | true
            a.*      | a.b.c   | false
            a.>      | a.b.c   | true
            a.>      | a       | false
            >        | a       | true
            *.b      | a.b     | true
            *        | a.b     | false
            a.b      | a.b.c   | false
            a.b.c    | a.b     | false
            """)
    void matches(String pattern, String subject, boolean expected) {
        assertThat(Subjects.matches(pattern, subject)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} covers {1} -> {2}")
    @CsvSource(delimiter = '|', textBlock = """
            a.>      | a.*       | true
            a.>      | a.*.>     | true
            a.>      | a         | false
            a.*      | a.>       | false
            a.*      | a.*       | true
            *.*      | a.b       | true
            >        | >         | true
            >        | *.x       | true
            a.b      | a.*       | false
            """)
    void covers(String grant, String requested, boolean expected) {
        assertThat(Subjects.covers(grant, requested)).isEqualTo(expected);
    }

    @Test
    void scopingKeepsTenantsApartAndInboxesOutOfTheirWildcards() {
        assertThat(Subjects.scoped("acme", "orders.>")).isEqualTo("tenant.acme.orders.>");
        assertThat(Subjects.scoped("acme", "_inbox.abc")).isEqualTo("aegis.inbox.acme.abc");
        assertThat(Subjects.relative("acme", "tenant.acme.orders.x")).isEqualTo("orders.x");
        assertThat(Subjects.relative("acme", "aegis.inbox.acme.abc")).isEqualTo("_inbox.abc");
        // A tenant's widest wildcard stays inside its own space and sees no replies.
        assertThat(Subjects.matches(Subjects.scoped("acme", ">"), Subjects.scoped("globex", "orders.x"))).isFalse();
        assertThat(Subjects.matches(Subjects.scoped("acme", ">"), Subjects.scoped("acme", "_inbox.abc"))).isFalse();
        assertThatThrownBy(() -> Subjects.relative("acme", "tenant.globex.x")).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a..b", ".a", "a.", "a b", "a.>.b", "a.*", "a.>", "tenant.x\u0000", "ä"})
    void literalsRefuseWildcardsAndJunk(String bad) {
        assertThatThrownBy(() -> Subjects.literal("subject", bad)).isInstanceOf(AegisException.class)
                .hasMessageStartingWith("subject: \"").hasMessageContaining("no wildcards");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a..b", "a.>.b", ">.a", "a.b*", "a.**", "a.>>"})
    void patternsRefuseMisplacedWildcards(String bad) {
        assertThatThrownBy(() -> Subjects.pattern("subject", bad)).isInstanceOf(AegisException.class)
                .hasMessageContaining("> as the last");
    }

    @Test
    void sizesAreBounded() {
        assertThatThrownBy(() -> Subjects.literal("subject", "a".repeat(65))).hasMessageContaining("no wildcards");
        assertThatThrownBy(() -> Subjects.literal("subject", "a.".repeat(16) + "a")).hasMessageContaining("more than 16 tokens");
        assertThatThrownBy(() -> Subjects.literal("subject", "ab.".repeat(90) + "a")).hasMessageContaining("1 to 256 characters");
        assertThat(Subjects.pattern("subject", "a.*.c.>")).isEqualTo("a.*.c.>");
    }
}
