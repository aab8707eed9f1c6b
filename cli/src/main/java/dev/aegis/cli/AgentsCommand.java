package dev.aegis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "agents", mixinStandardHelpOptions = true,
        description = {"Deploys and lists agents on a server.", "",
                "Example:", "  aegis agents deploy examples/summarizer", "  aegis agents list"},
        subcommands = {AgentsCommand.Deploy.class, AgentsCommand.List.class})
final class AgentsCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "deploy", mixinStandardHelpOptions = true,
            description = {"Uploads an agent folder (agent.yaml + code) as a tar.gz and deploys it.", "",
                    "Example:", "  aegis agents deploy examples/file-indexer"})
    static final class Deploy implements java.util.concurrent.Callable<Integer> {
        @Mixin
        Client client;

        @Parameters(index = "0", description = "agent folder holding agent.yaml")
        Path folder;

        @Override
        public Integer call() throws Exception {
            if (!Files.isRegularFile(folder.resolve("agent.yaml")))
                throw new IllegalArgumentException(folder + " has no agent.yaml; an agent folder needs one");
            byte[] tgz = TarGz.pack(folder);
            JsonNode agent = client.send(client.request("/v1/agents").header("Content-Type", "application/gzip")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(tgz)).build());
            System.out.println("deployed " + agent.path("name").asText() + " " + agent.path("version").asText()
                    + " (digest " + agent.path("digest").asText().substring(0, 12) + ")");
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = {"Lists deployed agents.", "", "Example:", "  aegis agents list"})
    static final class List implements java.util.concurrent.Callable<Integer> {
        @Mixin
        Client client;

        @Override
        public Integer call() throws Exception {
            for (JsonNode a : client.get("/v1/agents").path("agents"))
                System.out.printf("%-24s %-10s %-11s %s%n", a.path("name").asText(), a.path("version").asText(),
                        a.path("runtime").asText(), a.path("deployed_at").asText());
            return 0;
        }
    }
}
