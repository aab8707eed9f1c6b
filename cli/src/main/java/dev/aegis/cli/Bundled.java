package dev.aegis.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/** Files shipped inside the jar: the {@code aegis_agent} Python module and the example agents. */
final class Bundled {
    static final List<String> EXAMPLES = List.of("summarizer", "file-indexer", "swarm-coordinator", "swarm-worker", "oncall",
            "email-summarizer");
    private static final List<String> EXAMPLE_FILES = List.of("agent.yaml", "agent.py");
    /** Files beside an example's agent: the email summarizer's mailbox and its tool server registration. */
    private static final Map<String, List<String>> EXAMPLE_EXTRAS = Map.of("email-summarizer", List.of("mail-server.json",
            "mailbox/01-outage.eml", "mailbox/02-offsite.eml", "mailbox/03-invoice.eml", "mailbox/04-newsletter.eml",
            "mailbox/05-yesterday.eml"));
    private static final List<String> AGENT_LIB = List.of("__init__.py", "_locks.py", "_bus.py", "_tasks.py", "_tools.py", "_memory.py", "_llm.py");

    private Bundled() {}

    /** Writes the agent library into {@code dir} (fresh each start, so upgrades apply) and returns {@code dir}. */
    static Path extractAgentLib(Path dir) {
        for (String f : AGENT_LIB) copy("/aegis_agent/" + f, dir.resolve("aegis_agent").resolve(f));
        return dir;
    }

    /** Writes the example agents into {@code dir}, one folder each, and returns {@code dir}. */
    static Path extractExamples(Path dir) {
        for (String ex : EXAMPLES)
            for (String f : concat(EXAMPLE_FILES, EXAMPLE_EXTRAS.getOrDefault(ex, List.of())))
                copy("/examples/" + ex + "/" + f, dir.resolve(ex).resolve(f));
        return dir;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
    }

    private static void copy(String resource, Path target) {
        try (InputStream in = Bundled.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("resource " + resource + " is missing from the aegis jar; rebuild it");
            Files.createDirectories(target.getParent());
            Path tmp = Files.createTempFile(target.getParent(), ".part", null);
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target, e);
        }
    }
}
