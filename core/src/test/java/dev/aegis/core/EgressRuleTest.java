package dev.aegis.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
            10.0.0.0/33:443       | is not a host
            ::1:443               | is not a host
            [1::2::3]:443         | is not a host
            [1:2:3:4:5:6:7:8:9]:443 | is not a host
            [::1/129]:443         | is not a host
            """)
    void refuses(String entry, String fragment) {
        assertThatThrownBy(() -> EgressRule.parse(entry)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(fragment);
    }
}
