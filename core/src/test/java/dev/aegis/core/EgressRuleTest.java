package dev.aegis.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EgressRuleTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            api.openai.com:443      | api.openai.com  | 443
            API.OpenAI.com:443      | api.openai.com  | 443
            *.googleapis.com:443    | *.googleapis.com | 443
            localhost:1             | localhost       | 1
            10.0.0.5:65535          | 10.0.0.5        | 65535
            10.0.0.0/8:5432         | 10.0.0.0/8      | 5432
            [::1]:8080              | [::1]           | 8080
            [2001:db8::/32]:443     | [2001:db8::/32] | 443
            [1:2:3:4:5:6:7:8]:443   | [1:2:3:4:5:6:7:8] | 443
            """)
    void accepts(String entry, String host, int port) {
        assertThat(EgressRule.parse(entry)).isEqualTo(new EgressRule(host, port));
        assertThat(EgressRule.parse(entry).tls()).isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            tls://api.openai.com:443   | api.openai.com   | 443
            TLS://API.example.com:8443 | api.example.com  | 8443
            tls://*.googleapis.com:443 | *.googleapis.com | 443
            """)
    void acceptsTlsEntries(String entry, String host, int port) {
        EgressRule rule = EgressRule.parse(entry);
        assertThat(rule).isEqualTo(new EgressRule(host, port, true));
        assertThat(rule.toString()).isEqualTo("tls://" + host + ":" + port);
        assertThat(EgressRule.parse(rule.toString())).isEqualTo(rule);
    }

    @Test
    void namesAndAddresses() {
        assertThat(EgressRule.parse("api.example.com:443").isName()).isTrue();
        assertThat(EgressRule.parse("*.example.com:443").isName()).isTrue();
        assertThat(EgressRule.parse("10.0.0.0/8:443").isName()).isFalse();
        assertThat(EgressRule.parse("[::1]:443").isName()).isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            api.openai.com        | is not host:port
            :443                  | is not host:port
            [::1]                 | is not host:port
            a.com:https           | "https" is not a port; use 1-65535
            a.com:0               | port 0 is out of range
            a.com:65536           | port 65536 is out of range
            a.com:123456          | is not a port
            *:443                 | is not a host
            *.com:443             | is too broad
            a.*.com:443           | is not a host
            -a.com:443            | is not a host
            a..com:443            | is not a host
            1.2.3:443             | is not a host
            256.1.1.1:443         | is not a host
            010.0.0.1:443         | is not a host
            10.0.0.0/33:443       | is not a host
            ::1:443               | is not a host
            [1::2::3]:443         | is not a host
            [1:2:3:4:5:6:7:8:9]:443 | is not a host
            [::1/129]:443         | is not a host
            https://a.com:443     | "https://a.com:443" has a scheme other than tls://; use host:port, or tls://host:port to require TLS
            tls://https://a.com:443 | has a scheme other than tls://
            tls://10.0.0.5:443    | "tls://10.0.0.5" names an address; TLS needs a host name (SNI cannot carry an IP)
            tls://[::1]:443       | names an address
            tls://a.com           | is not host:port
            tls://bad_host.com:443 | "bad_host.com" is not a host
            """)
    void refuses(String entry, String fragment) {
        assertThatThrownBy(() -> EgressRule.parse(entry)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(fragment);
    }
}
