package dev.aegis.cli;

import dev.aegis.core.LogLine;
import dev.aegis.core.Orchestrator;
import dev.aegis.core.Task;
import dev.aegis.core.TaskEvents;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Runs one task of an agent folder in a fresh sandbox, here, without a server.", "",
                "Logs stream to stderr as the agent writes them; the result JSON goes to stdout.",
                "Exit code 0 when the task succeeded, 1 when it failed.", "",
                "Example:", "  aegis run examples/summarizer --input '{\"text\": \"One. Two. Three.\", \"sentences\": 1}'",
                "  aegis run ./my-agent --input @task.json"})
final class RunCommand implements java.util.concurrent.Callable<Integer> {
    @Parameters(index = "0", description = "agent folder holding agent.yaml")
    Path agentDir;

    @Option(names = "--input", description = "task input: JSON text, or @file (default {})")
    String input;

    @Option(names = "--data", description = "data folder (default $AEGIS_DATA, else ~/.aegis)")
    Path data;

    @Override
    public Integer call() throws Exception {
        if (!Files.isDirectory(agentDir)) throw new IllegalArgumentException(agentDir + " is not a folder; give an agent folder holding agent.yaml");
        String json = Inputs.json(input);
        try (Node node = new Node(Node.Config.embedded(DataDir.resolve(data)))) {
            node.notices().forEach(n -> System.err.println("aegis: " + n));
            var o = node.orchestrator();
            var agent = o.deploy("default", agentDir.toAbsolutePath(), agentDir.resolve("agent.yaml").toString());
            Task task = o.submit("default", agent.name(), json, Orchestrator.DEFAULT_PRIORITY, new TaskEvents.Listener() {
                @Override
                public void line(LogLine line) {
                    System.err.println("[" + agent.name() + "] " + line.line());
                }

                @Override
                public void ended(Task task) {}
            });
            Task end = o.await("default", task.id(), agent.manifest().resources().timeout().plusSeconds(30));
            try {
                if (end.result().isPresent()) {
                    System.out.println(end.result().get());
                    System.out.flush();
                    return 0;
                }
                System.err.println("aegis: task " + end.id() + " " + end.state().name().toLowerCase()
                        + end.error().map(e -> ": " + e.code() + ": " + e.message()).orElse(""));
                return 1;
            } finally {
                remember(node);
            }
        }
    }

    /**
     * The task goes into memory before the node closes (a closing node drops what still waits to be indexed), after
     * its result is printed: a script reading stdout has it already.
     */
    private static void remember(Node node) throws InterruptedException {
        if (node.memory().awaitIndexed(java.time.Duration.ZERO)) return;
        System.err.println("aegis: remembering the task (memory index)...");
        if (!node.memory().awaitIndexed(java.time.Duration.ofMinutes(2)))
            System.err.println("aegis: gave up waiting for the memory index; this task is not remembered");
    }
}
