package dev.aegis.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class PolicyTest {
    private static final Manifest.Permissions GRANTS = new Manifest.Permissions(
            new Manifest.Network(List.of("api.openai.com:443")),
            new Manifest.Filesystem(List.of("/data/inbox", "/etc/ssl"), List.of("/workspace", "/tmp/out")),
            List.of("gmail.list_messages", "github.*"),
            Manifest.MemoryAccess.READ,
            List.of("user_database", "reports/*"),
            Manifest.Llm.NONE);
    private static final Policy POLICY = policy(GRANTS, Manifest.Resources.DEFAULT, OperatorLimits.DEFAULT);
    private static final Policy NOTHING = policy(Manifest.Permissions.NONE, Manifest.Resources.DEFAULT, OperatorLimits.DEFAULT);

    @ParameterizedTest(name = "read {0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            /data/inbox                | allow
            /data/inbox/                | allow
            /data/inbox/2024/mail.eml   | allow
            /data//inbox/./a            | allow
            /workspace/notes.txt        | allow
            /tmp/out                    | allow
            /etc/ssl/certs/ca.pem       | allow
            /data/inboxes               | deny: read "/data/inboxes" denied; the manifest grants filesystem read /workspace, /tmp/out, /data/inbox, /etc/ssl
            /data                       | deny: read "/data" denied
            /                           | deny: read "/" denied
            /etc/passwd                 | deny: read "/etc/passwd" denied
            /data/inbox/../../etc/passwd | deny: has a .. segment
            /data/inbox/..              | deny: has a .. segment
            data/inbox                  | deny: is not an absolute path
            ''                          | deny: is not an absolute path
            ./data/inbox                | deny: is not an absolute path
            """)
    void read(String path, String expected) {
        check(POLICY.read(path), expected);
    }

    @ParameterizedTest(name = "write {0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            /workspace                | allow
            /workspace/a/b            | allow
            /tmp/out/x                | allow
            /workspaces               | deny: write "/workspaces" denied; the manifest grants filesystem write /workspace, /tmp/out
            /tmp                      | deny: write "/tmp" denied
            /data/inbox/a             | deny: write "/data/inbox/a" denied
            /workspace/../etc/passwd  | deny: has a .. segment
            workspace/a               | deny: is not an absolute path
            """)
    void write(String path, String expected) {
        check(POLICY.write(path), expected);
    }

    @Test
    void aNulByteIsDeniedAndShownEscaped() {
        check(POLICY.read("/data/inbox/a\0/etc/passwd"), "deny: read \"/data/inbox/a\\0/etc/passwd\" denied: the path contains a NUL");
    }

    @Test
    void nothingGrantedMeansNothingAllowed() {
        check(NOTHING.read("/workspace"), "deny: the manifest grants no filesystem read");
        check(NOTHING.write("/workspace"), "deny: the manifest grants no filesystem write");
        check(NOTHING.tool("gmail.list_messages"), "deny: the manifest grants no tools");
        check(NOTHING.lock("user_database"), "deny: the manifest grants no locks");
        check(NOTHING.memory(Manifest.MemoryAccess.READ), "deny: the manifest grants memory: none");
        check(NOTHING.memory(Manifest.MemoryAccess.NONE), "allow");
    }

    @ParameterizedTest(name = "tool {0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            gmail.list_messages  | allow
            github.create_issue  | allow
            github.repos.list    | allow
            gmail.send           | deny: tool "gmail.send" denied; the manifest grants tools gmail.list_messages, github.*
            gmail.list_messages2 | deny: tool "gmail.list_messages2" denied
            githubx.create_issue | deny: denied
            github               | deny: denied
            github.              | deny: denied
            github.*             | deny: denied
            .list_messages       | deny: denied
            ''                   | deny: denied
            """)
    void tool(String name, String expected) {
        check(POLICY.tool(name), expected);
    }

    @ParameterizedTest(name = "lock {0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            user_database   | allow
            reports/q1      | allow
            reports/2024/q1 | allow
            reports         | deny: lock "reports" denied; the manifest grants locks user_database, reports/*
            reports/        | deny: denied
            reportsx/q1     | deny: denied
            reports/*       | deny: denied
            reports//q1     | deny: denied
            user_database2  | deny: denied
            user_database/x | deny: denied
            ''              | deny: denied
            """)
    void lock(String name, String expected) {
        check(POLICY.lock(name), expected);
    }

    @ParameterizedTest(name = "memory {0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            NONE       | allow
            READ       | allow
            READ_WRITE | deny: memory read-write denied; the manifest grants memory: read
            """)
    void memory(Manifest.MemoryAccess needed, String expected) {
        check(POLICY.memory(needed), expected);
    }

    private static final Policy EGRESS = policy(new Manifest.Permissions(new Manifest.Network(List.of("api.example.com:443",
            "*.example.com:443", "tls://secure.example.org:443", "secure.example.org:8443", "10.0.0.0/8:5432",
            "[2001:db8::/32]:443", "127.0.0.2:8080", "xn--pple-43d.example.net:443", "169.254.0.0/16:80")),
            Manifest.Filesystem.NONE, List.of(), Manifest.MemoryAccess.NONE, List.of(), Manifest.Llm.NONE),
            Manifest.Resources.DEFAULT, OperatorLimits.DEFAULT);

    /** The proxy's rules without DNS (security's EgressPolicyTest adds the resolved addresses). */
    @ParameterizedTest(name = "egress {0}:{1} -> {2}")
    @CsvSource(delimiter = '|', textBlock = """
            api.example.com          | 443   | allow
            API.Example.COM.         | 443   | allow
            www.example.com          | 443   | allow
            a.b.example.com          | 443   | allow
            secure.example.org       | 443   | allow
            secure.example.org       | 8443  | allow
            10.9.8.7                 | 5432  | allow
            127.0.0.2                | 8080  | allow
            [2001:db8::1]            | 443   | allow
            xn--pple-43d.example.net | 443   | allow
            example.com              | 443   | deny: egress to example.com:443 denied: example.com:443 is not in permissions.network.egress; the manifest grants network egress api.example.com:443, *.example.com:443, tls://secure.example.org:443
            evil-example.com         | 443   | deny: evil-example.com:443 is not in permissions.network.egress
            api.example.com.evil.com | 443   | deny: is not in permissions.network.egress
            api.example.com          | 80    | deny: port 80 is not allowed for api.example.com (allowed: 443)
            secure.example.org       | 80    | deny: port 80 is not allowed for secure.example.org (allowed: 443, 8443)
            10.9.8.7                 | 443   | deny: port 443 is not allowed for 10.9.8.7 (allowed: 5432)
            11.0.0.1                 | 5432  | deny: 11.0.0.1:5432 is not in permissions.network.egress
            127.0.0.1                | 8080  | deny: 127.0.0.1:8080 is not in permissions.network.egress
            127.0.0.2                | 8081  | deny: port 8081 is not allowed for 127.0.0.2
            169.254.169.254          | 80    | deny: 169.254.169.254 is a cloud metadata address, which is always denied
            169.254.1.1              | 80    | allow
            xn--pple-43d.example.com | 443   | deny: is a punycode (IDN) name; only an entry naming it exactly allows it
            0x7f.1                   | 8080  | deny: egress to "0x7f.1" denied: "0x7f.1" is an alternative spelling of an IP address
            2130706433               | 8080  | deny: alternative spelling of an IP address
            127.0.0.02               | 8080  | deny: alternative spelling of an IP address
            [::ffff:127.0.0.2]       | 8080  | deny: embeds an IPv4 address in IPv6
            [::ffff:7f00:2]          | 8080  | deny: IPv4-mapped IPv6 address
            bad_name.example.com     | 443   | deny: is not a valid host name
            ''                       | 443   | deny: empty host
            api.example.com          | 0     | deny: port 0 is not 1-65535
            api.example.com          | 65536 | deny: port 65536 is not 1-65535
            """)
    void egress(String host, int port, String expected) {
        check(EGRESS.egress(host, port), expected);
    }

    @Test
    void withoutEgressEntriesNothingGoesOut() {
        check(NOTHING.egress("api.openai.com", 443), "deny: egress to api.openai.com:443 denied: api.openai.com:443 is not in "
                + "permissions.network.egress; the manifest grants no network egress");
        check(NOTHING.egress("127.0.0.1", 80), "deny: the manifest grants no network egress");
        check(POLICY.egress("api.openai.com", 443), "allow");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            at the ceilings  | 2.0 | 2Gi   | 1024 | 1Gi   | 15m  | allow
            cpu over         | 2.5 | 256Mi | 64   | 64Mi  | 30s  | deny: resources.cpu: asks 2.5, above the operator ceiling of 2
            memory over      | 1.0 | 3Gi   | 64   | 64Mi  | 30s  | deny: resources.memory: asks 3Gi, above the operator ceiling of 2Gi
            pids over        | 1.0 | 256Mi | 1025 | 64Mi  | 30s  | deny: resources.pids: asks 1025, above the operator ceiling of 1024
            disk over        | 1.0 | 256Mi | 64   | 1025Mi | 30s | deny: resources.disk: asks 1025Mi, above the operator ceiling of 1Gi
            timeout over     | 1.0 | 256Mi | 64   | 64Mi  | 16m  | deny: resources.timeout: asks 16m, above the operator ceiling of 15m
            all over         | 4.0 | 4Gi   | 2048 | 2Gi   | 1h   | deny: resources.cpu: asks 4, above the operator ceiling of 2; resources.memory: asks 4Gi
            """)
    void resources(String name, double cpu, String memory, int pids, String disk, String timeout, String expected) {
        var r = new Manifest.Resources(cpu, Quantities.bytes(memory), pids, Quantities.bytes(disk), Quantities.duration(timeout));
        check(policy(Manifest.Permissions.NONE, r, OperatorLimits.DEFAULT).resources(), expected);
    }

    @Test
    void allResourceCeilingsAreNamedTogether() {
        var r = new Manifest.Resources(4, 4L << 30, 2048, 2L << 30, Duration.ofHours(1));
        assertThat(policy(Manifest.Permissions.NONE, r, OperatorLimits.DEFAULT).resources())
                .isInstanceOfSatisfying(Decision.Deny.class, d -> assertThat(d.reason())
                        .contains("resources.cpu", "resources.memory", "resources.pids", "resources.disk", "resources.timeout"));
    }

    @Test
    void llmModelsAreGrantedExactlyOrByPrefixAndTokensWithinTheBudget() {
        var grants = new Manifest.Permissions(Manifest.Network.NONE, Manifest.Filesystem.NONE, List.of(), Manifest.MemoryAccess.NONE,
                List.of(), new Manifest.Llm(List.of("gpt-4o-mini", "claude-3-5-*"), 100));
        Policy p = policy(grants, Manifest.Resources.DEFAULT, OperatorLimits.DEFAULT);
        check(p.llm("gpt-4o-mini"), "allow");
        check(p.llm("claude-3-5-haiku-latest"), "allow");
        check(p.llm("gpt-4o"), "deny: model \"gpt-4o\" denied; the manifest grants llm models gpt-4o-mini, claude-3-5-*");
        check(p.llm("claude-3-opus"), "deny: denied");
        check(p.llm(""), "deny: denied");
        check(NOTHING.llm("gpt-4o-mini"), "deny: the manifest grants no llm models");
        check(policy(new Manifest.Permissions(Manifest.Network.NONE, Manifest.Filesystem.NONE, List.of(), Manifest.MemoryAccess.NONE,
                List.of(), new Manifest.Llm(List.of("*"), 1)), Manifest.Resources.DEFAULT, OperatorLimits.DEFAULT).llm("anything"), "allow");
        check(p.llmTokens(0, 100), "allow");
        check(p.llmTokens(60, 40), "allow");
        check(p.llmTokens(60, 41), "deny: token budget exhausted: this task used 60 and asks about 41 more of permissions.llm.max_tokens_per_task 100");
        check(p.llmTokens(100, 0), "allow");
        check(NOTHING.llmTokens(0, 1), "deny: the manifest grants no LLM tokens: set permissions.llm.max_tokens_per_task");
    }

    @Test
    void aManifestBuiltInCodeWithABadGrantFailsLoudly() {
        var bad = new Manifest.Permissions(Manifest.Network.NONE, new Manifest.Filesystem(List.of("/a/../b"), List.of()),
                List.of(), Manifest.MemoryAccess.NONE, List.of(), Manifest.Llm.NONE);
        assertThatThrownBy(() -> policy(bad, Manifest.Resources.DEFAULT, OperatorLimits.DEFAULT))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static void check(Decision decision, String expected) {
        if (expected.equals("allow")) {
            assertThat(decision).isEqualTo(Decision.ALLOW);
        } else {
            String fragment = expected.substring("deny: ".length());
            assertThat(decision).isInstanceOfSatisfying(Decision.Deny.class, d -> assertThat(d.reason()).contains(fragment));
        }
    }

    private static Policy policy(Manifest.Permissions permissions, Manifest.Resources resources, OperatorLimits limits) {
        return new Policy(new Manifest("a", "1.0.0", "bubblewrap", List.of("sh"), Optional.empty(), resources,
                permissions, List.of(), Manifest.Pool.DEFAULT), limits);
    }
}
