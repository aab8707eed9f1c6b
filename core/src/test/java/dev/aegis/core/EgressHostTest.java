package dev.aegis.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EgressHostTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            API.Example.COM    | api.example.com
            api.example.com.   | api.example.com
            xn--pple-43d.com   | xn--pple-43d.com
            1e100.net          | 1e100.net
            127.0.0.2          | 127.0.0.2
            [::1]              | [::1]
            [FD00:EC2::254]    | [fd00:ec2::254]
            """)
    void canonicalForms(String raw, String text) {
        assertThat(EgressHost.parse(raw).text()).isEqualTo(text);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            0x7f.1             | alternative spelling of an IP address
            0x7f000001         | alternative spelling of an IP address
            2130706433         | alternative spelling of an IP address
            017700000001       | alternative spelling of an IP address
            127.1              | alternative spelling of an IP address
            127.0.0.01         | alternative spelling of an IP address
            0177.0.0.1         | alternative spelling of an IP address
            127.0.0.1.         | alternative spelling of an IP address
            1.2.3.4.5          | alternative spelling of an IP address
            [::ffff:127.0.0.1] | embeds an IPv4 address
            [::ffff:7f00:1]    | IPv4-mapped IPv6 address
            [::127.0.0.1]      | embeds an IPv4 address
            [fe80::1%25eth0]   | not a valid IPv6 literal
            [::1               | not a valid IPv6 literal
            [1::2::3]          | not a valid IP address
            bad_name.com       | is not a valid host name
            -a.com             | is not a valid host name
            a..com             | is not a valid host name
            'a b.com'          | control character or space
            """)
    void refusedSpellings(String raw, String reason) {
        assertThatThrownBy(() -> EgressHost.parse(raw)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(reason);
    }

    @Test
    void refusesNonAsciiAndMarksPunycode() {
        assertThatThrownBy(() -> EgressHost.parse("\u0430pple.com")).hasMessageContaining("non-ASCII host");
        assertThatThrownBy(() -> EgressHost.parse("api.example.com\u3002")).hasMessageContaining("non-ASCII host");
        assertThat(EgressHost.parse("www.xn--pple-43d.com")).isEqualTo(new EgressHost.Name("www.xn--pple-43d.com", true));
        assertThat(EgressHost.parse("www.apple.com")).isEqualTo(new EgressHost.Name("www.apple.com", false));
        assertThatThrownBy(() -> EgressHost.parse("a".repeat(63) + "." + "b".repeat(63) + "." + "c".repeat(63) + "." + "d".repeat(63)))
                .hasMessageContaining("longer than 253 characters");
    }
}
