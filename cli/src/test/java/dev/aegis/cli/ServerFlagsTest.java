package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.aegis.api.RateLimits;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code aegis server}'s rate-limit flags: parsed over the defaults, refused with a clear error, taught by --help. */
class ServerFlagsTest {
    private static ServerCommand parse(String... args) {
        ServerCommand cmd = new ServerCommand();
        new CommandLine(cmd).parseArgs(args);
        return cmd;
    }

    @Test
    void flagsSetKeyAndTenantBucketsPerRouteClass() {
        RateLimits.Config c = parse("--rate-limit", "run=50/10", "--rate-limit", "read=200/50", "--tenant-rate-limit", "run=500/100")
                .rateLimits();
        assertThat(c.perKey().get("run")).isEqualTo(new RateLimits.Limit(50, 10));
        assertThat(c.perKey().get("read")).isEqualTo(new RateLimits.Limit(200, 50));
        assertThat(c.perKey().get("deploy")).isEqualTo(RateLimits.DEFAULTS.get("deploy"));
        assertThat(c.perTenant().get("run")).isEqualTo(new RateLimits.Limit(500, 100));
        // A tenant class not given is 4x the key's, as configured.
        assertThat(c.perTenant().get("read")).isEqualTo(new RateLimits.Limit(800, 200));
        assertThat(parse().rateLimits().perKey()).isEqualTo(RateLimits.DEFAULTS);
    }

    @Test
    void badFlagsSayWhatIsWrongAndWhatIsAllowed() {
        assertThatThrownBy(() -> parse("--rate-limit", "reads=10/5").rateLimits())
                .hasMessage("--rate-limit: \"reads=10/5\": unknown route class \"reads\"; use one of deploy, run, read");
        assertThatThrownBy(() -> parse("--rate-limit", "read=10").rateLimits())
                .hasMessage("--rate-limit: \"read=10\" is not CLASS=BURST/PER_SECOND (e.g. read=1000/500)");
        assertThatThrownBy(() -> parse("--tenant-rate-limit", "run=0/5").rateLimits())
                .hasMessage("--tenant-rate-limit: \"run=0/5\": BURST must be at least 1 and PER_SECOND from 1 to 1000000000");
        assertThatThrownBy(() -> parse("--rate-limit", "run=5/2000000000").rateLimits()).hasMessageContaining("PER_SECOND from 1 to");
        CliTest.Run run = CliTest.aegis("server", "--data", "/nonexistent-aegis-test", "--rate-limit", "fast");
        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).contains("--rate-limit: \"fast\" is not CLASS=BURST/PER_SECOND");
    }

    @Test
    void llmFlagsSetTheGatewayTimeoutAndContentAudit() {
        Node.Llm d = parse().llm();
        assertThat(d).isEqualTo(Node.Llm.DEFAULT);
        Node.Llm l = parse("--llm-timeout", "45s", "--llm-audit-content").llm();
        assertThat(l.gateway().timeout()).isEqualTo(java.time.Duration.ofSeconds(45));
        assertThat(l.gateway().streamIdle()).isEqualTo(Node.Llm.DEFAULT.gateway().streamIdle());
        assertThat(l.auditContent()).isTrue();
        assertThatThrownBy(() -> parse("--llm-timeout", "soon").llm()).hasMessageStartingWith("--llm-timeout: ");
        assertThatThrownBy(() -> parse("--llm-timeout", "0s").llm()).hasMessage("--llm-timeout: \"0s\" must be more than 0");
    }

    @Test
    void helpTeachesTheFlags() {
        CliTest.Run help = CliTest.aegis("server", "--help");
        assertThat(help.code()).isZero();
        assertThat(help.out()).contains("--rate-limit=CLASS=BURST/PER_SECOND").contains("--tenant-rate-limit")
                .contains("deploy (POST /v1/agents)").contains("429 with Retry-After")
                .contains("deploy=60/5  run=300/100  read=1000/500").contains("Example: aegis server --rate-limit");
    }

    @Test
    void egressHostsFileResolvesAllowListNames(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path hosts = java.nio.file.Files.writeString(dir.resolve("hosts"), "# test sites\n127.0.0.2 api.example.com www.example.com\n");
        var egress = parse("--egress-hosts", hosts.toString()).egress(dev.aegis.security.EgressConfig.defaults());
        assertThat(egress.resolver().resolve("www.example.com")).containsExactly(java.net.InetAddress.getByName("127.0.0.2"));
        assertThatThrownBy(() -> egress.resolver().resolve("example.org")).isInstanceOf(java.net.UnknownHostException.class);
        var defaults = dev.aegis.security.EgressConfig.defaults();
        assertThat(parse().egress(defaults)).isSameAs(defaults);
        java.nio.file.Files.writeString(hosts, "api.example.com 127.0.0.2\n");
        assertThatThrownBy(() -> parse("--egress-hosts", hosts.toString()).egress(dev.aegis.security.EgressConfig.defaults()))
                .hasMessageStartingWith("--egress-hosts: " + hosts + ":1: \"api.example.com 127.0.0.2\" is not \"address name...\"");
        assertThatThrownBy(() -> parse("--egress-hosts", dir.resolve("missing").toString()).egress(dev.aegis.security.EgressConfig.defaults()))
                .hasMessage("--egress-hosts: cannot read " + dir.resolve("missing") + ": no such file");
    }
}
