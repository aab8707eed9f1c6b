package dev.aegis.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aegis.core.EgressHost;
import dev.aegis.core.EgressRule;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The decision alone, table-driven; EgressProxyTest drives the same checks with real traffic. */
class EgressPolicyTest {
    private static final List<EgressRule> RULES = List.of("api.example.com:443", "*.example.com:443", "tls://secure.example.org:443",
            "secure.example.org:8443", "10.0.0.0/8:5432", "[2001:db8::/32]:443", "internal.example.net:80", "10.1.2.3:80",
            "xn--pple-43d.example.net:443", "169.254.0.0/16:80", "192.0.2.7:443").stream().map(EgressRule::parse).toList();
    private static final Resolver DNS = Resolver.of(Map.of(
            "api.example.com", ips("93.184.216.34"),
            "www.example.com", ips("93.184.216.35"),
            "a.b.example.com", ips("93.184.216.36"),
            "secure.example.org", ips("93.184.216.37"),
            "internal.example.net", ips("10.1.2.3"),
            "rebind.example.com", ips("127.0.0.1", "93.184.216.38"),
            "loop.example.com", ips("127.0.0.1"),
            "meta.example.com", ips("169.254.169.254"),
            "v6.example.com", ips("::1"),
            "xn--pple-43d.example.net", ips("93.184.216.39")));

    @ParameterizedTest(name = "{0}:{1} -> {2}")
    @CsvSource(delimiter = '|', textBlock = """
            api.example.com          | 443  | allow 93.184.216.34
            www.example.com          | 443  | allow 93.184.216.35
            a.b.example.com          | 443  | allow 93.184.216.36
            secure.example.org       | 443  | allow 93.184.216.37 tls
            secure.example.org       | 8443 | allow 93.184.216.37
            internal.example.net     | 80   | allow 10.1.2.3
            rebind.example.com       | 443  | allow 93.184.216.38
            10.9.8.7                 | 5432 | allow 10.9.8.7
            [2001:db8::1]            | 443  | allow 2001:db8:0:0:0:0:0:1
            xn--pple-43d.example.net | 443  | allow 93.184.216.39
            192.0.2.7                | 443  | allow 192.0.2.7
            example.com              | 443  | deny example.com:443 is not in permissions.network.egress
            evil-example.com         | 443  | deny evil-example.com:443 is not in permissions.network.egress
            api.example.com.evil.com | 443  | deny is not in permissions.network.egress
            api.example.com          | 80   | deny port 80 is not allowed for api.example.com (allowed: 443)
            10.9.8.7                 | 443  | deny port 443 is not allowed for 10.9.8.7 (allowed: 5432)
            11.0.0.1                 | 5432 | deny 11.0.0.1:5432 is not in permissions.network.egress
            loop.example.com         | 443  | deny loop.example.com resolves to loopback address 127.0.0.1, which is denied unless an entry names it by IP on port 443
            v6.example.com           | 443  | deny resolves to loopback address 0:0:0:0:0:0:0:1
            meta.example.com         | 443  | deny resolves to cloud metadata address 169.254.169.254, which is always denied
            169.254.169.254          | 80   | deny 169.254.169.254 is a cloud metadata address, which is always denied
            [fd00:ec2::254]          | 443  | deny cloud metadata address
            nowhere.example.com      | 443  | deny nowhere.example.com does not resolve
            xn--pple-43d.example.com | 443  | deny is a punycode (IDN) name; only an entry naming it exactly allows it
            internal.example.net     | 8080 | deny port 8080 is not allowed
            """)
    void decides(String host, int port, String expected) {
        String got = switch (EgressPolicy.check(RULES, EgressHost.parse(host), port, DNS)) {
            case EgressPolicy.Verdict.Allow a -> "allow " + a.ip().getHostAddress() + (a.tlsRequired() ? " tls" : "");
            case EgressPolicy.Verdict.Deny d -> "deny " + d.reason();
        };
        if (expected.startsWith("allow")) assertThat(got).isEqualTo(expected);
        else assertThat(got).startsWith("deny").contains(expected.substring(5));
    }

    private static List<InetAddress> ips(String... texts) {
        return List.of(texts).stream().map(t -> {
            try {
                return InetAddress.getByName(t);
            } catch (UnknownHostException e) {
                throw new IllegalStateException(e);
            }
        }).toList();
    }
}
