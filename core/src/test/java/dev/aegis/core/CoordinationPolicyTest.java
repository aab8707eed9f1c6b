package dev.aegis.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Bus subjects and delegation against the manifest: deny by default, grants as narrow as written. */
class CoordinationPolicyTest {
    private static final Policy POLICY = policy(new Manifest.Permissions(Manifest.Network.NONE, Manifest.Filesystem.NONE,
            List.of(), Manifest.MemoryAccess.NONE, List.of(), Manifest.Llm.NONE,
            new Manifest.Bus(List.of("orders.created", "work.*", "logs.>"), List.of("results.>", "jobs.*.done", "aegis.tasks.>")),
            List.of("worker", "summarizer")));
    private static final Policy NOTHING = policy(Manifest.Permissions.NONE);

    @ParameterizedTest(name = "publish {0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            orders.created       | allow
            work.a               | allow
            logs.a               | allow
            logs.a.b.c           | allow
            orders.deleted       | deny: publish on "orders.deleted" denied; the manifest grants bus publish orders.created, work.*, logs.>
            orders               | deny: denied
            work.a.b             | deny: denied
            work                 | deny: denied
            logs                 | deny: denied
            """)
    void publish(String subject, String expected) {
        check(POLICY.publish(subject), expected);
    }

    @ParameterizedTest(name = "subscribe {0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            results.x            | allow
            results.*            | allow
            results.>            | allow
            results.*.y.>        | allow
            jobs.7.done          | allow
            jobs.*.done          | allow
            aegis.tasks.worker.> | allow
            jobs.>               | deny: subscribe to "jobs.>" denied; the manifest grants bus subscribe results.>, jobs.*.done, aegis.tasks.>
            jobs.7.*             | deny: denied
            >                    | deny: denied
            *.x                  | deny: denied
            results              | deny: denied
            aegis.>              | deny: denied
            """)
    void subscribe(String pattern, String expected) {
        check(POLICY.subscribe(pattern), expected);
    }

    @Test
    void delegationGoesOnlyToListedAgents() {
        check(POLICY.delegate("worker"), "allow");
        check(POLICY.delegate("workers"), "deny: delegating to agent \"workers\" denied; the manifest grants delegate worker, summarizer");
        check(NOTHING.delegate("worker"), "deny: the manifest grants no delegate");
        check(NOTHING.publish("a"), "deny: the manifest grants no bus publish");
        check(NOTHING.subscribe("a"), "deny: the manifest grants no bus subscribe");
    }

    private static void check(Decision decision, String expected) {
        if (expected.equals("allow")) {
            assertThat(decision).isEqualTo(Decision.ALLOW);
        } else {
            String fragment = expected.substring("deny: ".length());
            assertThat(decision).isInstanceOfSatisfying(Decision.Deny.class, d -> assertThat(d.reason()).contains(fragment));
        }
    }

    private static Policy policy(Manifest.Permissions permissions) {
        return new Policy(new Manifest("a", "1.0.0", "bubblewrap", List.of("sh"), Optional.empty(), Manifest.Resources.DEFAULT,
                permissions, List.of(), Manifest.Pool.DEFAULT), OperatorLimits.DEFAULT);
    }
}
