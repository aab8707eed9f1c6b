package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aegis.core.Delegation;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code aegis server}'s coordination flags: the bus's place and the delegation limits. */
class SwarmFlagsTest {
    private static Node.Coordination parse(String... args) {
        ServerCommand cmd = new ServerCommand();
        new CommandLine(cmd).parseArgs(args);
        return cmd.coordination(Node.Coordination.DEFAULT);
    }

    @Test
    void flagsSetTheBusAndTheDelegationLimits() {
        assertThat(parse()).isEqualTo(Node.Coordination.DEFAULT);
        Node.Coordination c = parse("--nats", "nats://127.0.0.1:4222", "--max-delegation-depth", "1", "--max-children", "3");
        assertThat(c.natsUrl()).contains("nats://127.0.0.1:4222");
        assertThat(c.limits().tasks()).isEqualTo(new Delegation.Limits(1, 3, Delegation.Limits.DEFAULT.maxWait()));
        assertThat(c.limits().locks()).isEqualTo(Node.Coordination.DEFAULT.limits().locks());
        assertThat(parse("--max-delegation-depth", "0").natsUrl()).isEqualTo(Optional.empty());
    }

    @Test
    void badFlagsSayWhatIsWrong() {
        CliTest.Run run = CliTest.aegis("server", "--data", "/nonexistent-aegis-test", "--max-children", "-1");
        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).contains("--max-children: -1 is negative; use 0 or more");
        CliTest.Run help = CliTest.aegis("server", "--help");
        assertThat(help.out()).contains("--max-delegation-depth").contains("--max-children").contains("--nats");
    }
}
