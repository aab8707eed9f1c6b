package dev.aegis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "tasks", mixinStandardHelpOptions = true,
        description = {"Submits tasks to a server and reads their state and logs.", "",
                "Example:", "  aegis tasks submit summarizer --input '{\"text\": \"A. B. C.\"}' --wait",
                "  aegis tasks logs 7f3c... --follow"},
        subcommands = {TasksCommand.Submit.class, TasksCommand.Get.class, TasksCommand.Logs.class, TasksCommand.Cancel.class,
                TasksTree.class})
final class TasksCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "submit", mixinStandardHelpOptions = true,
            description = {"Submits a task; prints its id, or with --wait the finished task.", "",
                    "Example:", "  aegis tasks submit file-indexer --input @task.json --wait"})
    static final class Submit implements java.util.concurrent.Callable<Integer> {
        @Mixin
        Client client;

        @Parameters(index = "0", description = "agent name")
        String agent;

        @Option(names = "--input", description = "task input: JSON text, or @file (default {})")
        String input;

        @Option(names = "--wait", description = "wait for the task to end and print it")
        boolean wait;

        @Override
        public Integer call() throws Exception {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("agent", agent);
            body.put("input", Client.JSON.readTree(Inputs.json(input)));
            body.put("wait", wait);
            JsonNode task = client.post("/v1/tasks", body);
            if (!wait) {
                System.out.println(task.path("id").asText());
                return 0;
            }
            System.out.println(Client.pretty(task));
            return task.path("state").asText().equals("succeeded") ? 0 : 1;
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true,
            description = {"Prints a task: state, result or error, lifecycle with timings.", "", "Example:", "  aegis tasks get 7f3c..."})
    static final class Get implements java.util.concurrent.Callable<Integer> {
        @Mixin
        Client client;

        @Parameters(index = "0", description = "task id")
        String id;

        @Override
        public Integer call() throws Exception {
            System.out.println(Client.pretty(client.get("/v1/tasks/" + id)));
            return 0;
        }
    }

    @Command(name = "logs", mixinStandardHelpOptions = true,
            description = {"Prints a task's logs; --follow streams them live until the task ends.", "",
                    "Example:", "  aegis tasks logs 7f3c... --follow"})
    static final class Logs implements java.util.concurrent.Callable<Integer> {
        @Mixin
        Client client;

        @Parameters(index = "0", description = "task id")
        String id;

        @Option(names = {"-f", "--follow"}, description = "stream until the task ends (server-sent events)")
        boolean follow;

        @Override
        public Integer call() throws Exception {
            if (!follow) {
                for (JsonNode l : client.get("/v1/tasks/" + id + "/logs").path("logs")) System.out.println(l.path("line").asText());
                return 0;
            }
            var resp = client.stream("/v1/tasks/" + id + "/logs/stream");
            if (resp.statusCode() >= 400) throw new IllegalStateException("HTTP " + resp.statusCode() + " for task " + id);
            try (BufferedReader in = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8))) {
                String event = "", line;
                while ((line = in.readLine()) != null) {
                    if (line.startsWith("event:")) event = line.substring(6).strip();
                    else if (line.startsWith("data:")) {
                        JsonNode data = Client.JSON.readTree(line.substring(5));
                        switch (event) {
                            case "log" -> System.out.println(data.path("line").asText());
                            case "end" -> System.err.println("aegis: task " + data.path("state").asText());
                            case "error" -> throw new IllegalStateException(data.path("message").asText());
                            default -> { }
                        }
                    }
                }
            }
            return 0;
        }
    }

    @Command(name = "cancel", mixinStandardHelpOptions = true,
            description = {"Cancels a queued or running task; its sandbox is killed.", "", "Example:", "  aegis tasks cancel 7f3c..."})
    static final class Cancel implements java.util.concurrent.Callable<Integer> {
        @Mixin
        Client client;

        @Parameters(index = "0", description = "task id")
        String id;

        @Override
        public Integer call() throws Exception {
            System.out.println(client.post("/v1/tasks/" + id + "/cancel", Map.of()).path("state").asText());
            return 0;
        }
    }
}
