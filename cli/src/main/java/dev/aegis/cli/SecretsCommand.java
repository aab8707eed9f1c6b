package dev.aegis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "secrets", mixinStandardHelpOptions = true,
        description = {"Sets, lists and deletes the tenant's secrets (set and delete need an admin or deployer key).", "",
                "An agent whose agent.yaml lists a secret under `secrets:` gets it as an environment variable; its logs,",
                "result and errors are scrubbed of the value. Values are never shown again, by any command.", "",
                "Example:", "  aegis secrets set OPENAI_API_KEY < key.txt", "  aegis secrets list"},
        subcommands = {SecretsCommand.Set.class, SecretsCommand.List.class, SecretsCommand.Delete.class})
final class SecretsCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "set", mixinStandardHelpOptions = true,
            description = {"Creates or replaces a secret. The value comes from --value-file or stdin, never from the",
                    "command line (where ps and shell history would show it); one trailing newline is dropped.", "",
                    "Example:", "  printf %%s \"$TOKEN\" | aegis secrets set GITHUB_TOKEN",
                    "  aegis secrets set OPENAI_API_KEY --value-file ~/.openai-key"})
    static final class Set implements java.util.concurrent.Callable<Integer> {
        @Mixin
        Client client;

        @Parameters(index = "0", description = "UPPER_SNAKE_CASE name, the agent's environment variable")
        String name;

        @Option(names = "--value-file", description = "file holding the value (default: read stdin)")
        Path valueFile;

        @Override
        public Integer call() throws Exception {
            String value = valueFile != null ? read(valueFile) : new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
            if (value.endsWith("\n")) value = value.substring(0, value.length() - (value.endsWith("\r\n") ? 2 : 1));
            if (value.isEmpty())
                throw new IllegalArgumentException("no value: pipe it on stdin or pass --value-file (it is never taken from the command line)");
            String body = Client.JSON.writeValueAsString(Map.of("value", value));
            JsonNode s = client.send(client.request("/v1/secrets/" + Client.segment(name)).header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString(body)).build());
            System.out.println((s.path("created_at").asText().equals(s.path("updated_at").asText()) ? "created " : "replaced ")
                    + s.path("name").asText());
            return 0;
        }

        private static String read(Path file) throws IOException {
            if (!Files.isRegularFile(file)) throw new IllegalArgumentException("--value-file: " + file + " is not a file");
            return Files.readString(file, StandardCharsets.UTF_8);
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = {"Lists the tenant's secrets: names and times, never values.", "", "Example:", "  aegis secrets list"})
    static final class List implements java.util.concurrent.Callable<Integer> {
        @Mixin
        Client client;

        @Override
        public Integer call() throws Exception {
            for (JsonNode s : client.get("/v1/secrets").path("secrets"))
                System.out.printf("%-32s created %s  updated %s%n", s.path("name").asText(), s.path("created_at").asText(),
                        s.path("updated_at").asText());
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = {"Deletes a secret. Warm sandboxes holding it go at once; agents that list it fail their tasks",
                    "with secret_missing until it is set again.", "", "Example:", "  aegis secrets delete OPENAI_API_KEY"})
    static final class Delete implements java.util.concurrent.Callable<Integer> {
        @Mixin
        Client client;

        @Parameters(index = "0", description = "the secret's name")
        String name;

        @Override
        public Integer call() throws Exception {
            JsonNode s = client.send(client.request("/v1/secrets/" + Client.segment(name)).DELETE().build());
            System.out.println("deleted " + s.path("name").asText());
            return 0;
        }
    }
}
