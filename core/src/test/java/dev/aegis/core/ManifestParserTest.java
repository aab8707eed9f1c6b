package dev.aegis.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ManifestParserTest {
    private static final Path MANIFESTS = Path.of("src/test/resources/manifests");

    @Test
    void parsesTheDesignExample() throws IOException {
        Manifest m = ManifestParser.parse(Files.readString(MANIFESTS.resolve("valid/design-example.yaml")), "design.yaml");

        assertThat(m.name()).isEqualTo("email-summarizer");
        assertThat(m.version()).isEqualTo("1.0.0");
        assertThat(m.runtime()).isEqualTo("bubblewrap");
        assertThat(m.entrypoint()).containsExactly("python3", "agent.py");
        assertThat(m.image()).isEmpty();
        assertThat(m.resources()).isEqualTo(new Manifest.Resources(0.5, 256L << 20, 64, 64L << 20, Duration.ofSeconds(30)));
        Manifest.Permissions p = m.permissions();
        assertThat(p.network().egress()).containsExactly("api.openai.com:443", "*.googleapis.com:443");
        assertThat(p.filesystem()).isEqualTo(new Manifest.Filesystem(List.of("/data/inbox"), List.of("/workspace")));
        assertThat(p.tools()).containsExactly("gmail.list_messages");
        assertThat(p.memory()).isEqualTo(Manifest.MemoryAccess.READ_WRITE);
        assertThat(p.locks()).containsExactly("user_database");
        assertThat(p.llm()).isEqualTo(new Manifest.Llm(List.of("gpt-4o-mini"), 20000));
        assertThat(m.secrets()).containsExactly("OPENAI_API_KEY");
        assertThat(m.pool()).isEqualTo(new Manifest.Pool(2, 16));
    }

    @Test
    void parsesCoordinationGrants() throws IOException {
        Manifest m = ManifestParser.parse(Files.readString(MANIFESTS.resolve("valid/swarm.yaml")), "swarm.yaml");
        Manifest.Permissions p = m.permissions();
        assertThat(p.locks()).containsExactly("ledger", "jobs/*");
        assertThat(p.bus()).isEqualTo(new Manifest.Bus(List.of("work.>", "results.*"), List.of("results.>", "aegis.tasks.worker.>")));
        assertThat(p.delegate()).containsExactly("worker", "summarizer");
    }

    @Test
    void aMemoryNamespaceIsTheAgentsOwnUnlessTheManifestSharesOne() {
        Manifest own = ManifestParser.parse(minimalWith("permissions: {memory: read-write}\n"), "own.yaml");
        assertThat(own.permissions().memoryNamespace()).isEmpty();
        assertThat(Policy.memoryNamespace(own)).isEqualTo("a");
        Manifest shared = ManifestParser.parse(minimalWith("permissions: {memory: read, memory_namespace: ops-team}\n"), "shared.yaml");
        assertThat(shared.permissions().memoryNamespace()).contains("ops-team");
        assertThat(new Policy(shared, OperatorLimits.DEFAULT).memoryNamespace()).isEqualTo("ops-team");
    }

    @Test
    void minimalManifestGetsSafeDefaults() throws IOException {
        Manifest m = ManifestParser.parse(Files.readString(MANIFESTS.resolve("valid/minimal.yaml")), "minimal.yaml");

        assertThat(m.entrypoint()).containsExactly("/bin/echo", "hi");
        assertThat(m.image()).isEmpty();
        assertThat(m.resources()).isEqualTo(Manifest.Resources.DEFAULT);
        assertThat(m.permissions()).isEqualTo(Manifest.Permissions.NONE);
        assertThat(m.secrets()).isEmpty();
        assertThat(m.pool()).isEqualTo(Manifest.Pool.DEFAULT);
    }

    @Test
    void missingFieldsInsideAPartTakeTheirOwnDefault() {
        Manifest m = ManifestParser.parse("""
                name: a
                version: 1.0.0-rc.1+build.5
                runtime: firecracker
                entrypoint: [/agent/run]
                image: rootfs.ext4
                resources: {memory: 1048576, disk: 1G, timeout: 500ms}
                permissions:
                  filesystem: {write: [/workspace]}
                  llm: {models: [m]}
                pool: {max: 1}
                """, "a.yaml");

        assertThat(m.image()).contains("rootfs.ext4");
        assertThat(m.resources()).isEqualTo(new Manifest.Resources(Manifest.Resources.DEFAULT.cpu(), 1048576,
                Manifest.Resources.DEFAULT.pids(), 1_000_000_000L, Duration.ofMillis(500)));
        assertThat(m.permissions().filesystem().read()).isEmpty();
        assertThat(m.permissions().memory()).isEqualTo(Manifest.MemoryAccess.NONE);
        assertThat(m.permissions().llm()).isEqualTo(new Manifest.Llm(List.of("m"), 0));
        assertThat(m.pool()).isEqualTo(new Manifest.Pool(0, 1));
    }

    @Test
    void acceptsEveryEgressHostForm() {
        Manifest m = ManifestParser.parse(minimalWith("""
                permissions:
                  network: {egress: ["API.example.com:443", "*.googleapis.com:443", "10.0.0.5:5432",
                                     "10.0.0.0/8:5432", "[::1]:8080", "[2001:db8::/32]:443", "localhost:65535",
                                     "tls://api.example.com:443", "tls://*.example.com:8443"]}
                """), "egress.yaml");

        assertThat(m.permissions().network().egress()).hasSize(9);
        assertThat(EgressRule.parse(m.permissions().network().egress().get(8))).isEqualTo(new EgressRule("*.example.com", 8443, true));
        assertThat(EgressRule.parse("API.example.com:443")).isEqualTo(new EgressRule("api.example.com", 443));
    }

    static Stream<Path> invalidManifests() throws IOException {
        return Files.list(MANIFESTS.resolve("invalid")).sorted();
    }

    /** Each file starts with {@code # expect: <path> | <fragment of the message>}. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidManifests")
    void rejectsInvalidManifest(Path file) throws IOException {
        String yaml = Files.readString(file);
        String[] expect = yaml.lines().findFirst().orElseThrow().replaceFirst("^# expect:", "").split("\\|", 2);
        String path = expect[0].strip();
        String fragment = expect[1].strip();
        String source = "agents/" + file.getFileName();

        InvalidManifestException e = catchThrowableOfType(InvalidManifestException.class,
                () -> ManifestParser.parse(yaml, source));

        assertThat(e).as("%s must be rejected", file.getFileName()).isNotNull();
        assertThat(e.code()).isEqualTo("invalid_manifest");
        assertThat(e.getMessage()).startsWith(source + ": ").contains(fragment).doesNotContain("$.", "$/");
        assertThat(e.violations()).as(e.getMessage())
                .anySatisfy(v -> {
                    assertThat(v.path()).isEqualTo(path);
                    assertThat(v.message()).contains(fragment);
                });
        if (!path.isEmpty()) assertThat(e.getMessage()).contains(path + ": ");
    }

    @Test
    void reportsEveryViolationNotOnlyTheFirst() {
        InvalidManifestException e = catchThrowableOfType(InvalidManifestException.class, () -> ManifestParser.parse("""
                name: Bad
                version: 1.0.0
                runtime: kvm
                entrypoint: []
                resources: {memory: 12XB}
                pool: {warm: 9, max: 3}
                """, "many.yaml"));

        assertThat(e.violations()).extracting(InvalidManifestException.Violation::path)
                .containsExactlyInAnyOrder("name", "runtime", "entrypoint", "resources.memory", "pool.warm");
        assertThat(e.field()).isPresent();
    }

    @Test
    void reportsASchemaViolationOnceEvenWhenAFinerRuleAlsoFails() {
        InvalidManifestException e = catchThrowableOfType(InvalidManifestException.class,
                () -> ManifestParser.parse(minimalWith("permissions: {network: {egress: [nope]}}\n"), "once.yaml"));

        assertThat(e.violations()).hasSize(1);
    }

    @Test
    void refusesABillionLaughsBomb() {
        String bomb = """
                name: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
                version: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
                runtime: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
                entrypoint: [*c,*c,*c,*c,*c,*c,*c,*c,*c]
                """;
        assertThatThrownBy(() -> ManifestParser.parse(bomb, "bomb.yaml"))
                .isInstanceOf(InvalidManifestException.class).hasMessageContaining("aliases");
    }

    @Test
    void refusesHugeAndDeepDocuments() {
        assertThatThrownBy(() -> ManifestParser.parse("name: " + "a".repeat(2 << 20), "huge.yaml"))
                .isInstanceOf(InvalidManifestException.class)
                .hasMessageContaining("huge.yaml: the file is 2097158 characters long; agent.yaml may be at most 65536");
        assertThatThrownBy(() -> ManifestParser.parse("name: " + "[".repeat(100) + "]".repeat(100), "deep.yaml"))
                .isInstanceOf(InvalidManifestException.class).hasMessageContaining("deep.yaml: ").hasMessageContaining("nesting depth");
    }

    @Test
    void anImageIsOptionalText() {
        assertThat(ManifestParser.parse(minimalWith("image: null\n"), "x").image()).isEqualTo(Optional.empty());
        assertThat(ManifestParser.parse(minimalWith("image: busybox:1.36\n"), "x").image()).contains("busybox:1.36");
    }

    private static String minimalWith(String extra) {
        return "name: a\nversion: 1.0.0\nruntime: docker\nentrypoint: [sh]\n" + extra;
    }
}
