package dev.aegis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.llm.LocalModelServer;
import java.net.http.HttpRequest;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "llm", mixinStandardHelpOptions = true,
        description = {"The LLM gateway. Agents call an OpenAI-compatible API on their agent socket",
                "(POST /v1/chat/completions, streaming or not, and /v1/embeddings; in Python",
                "aegis_agent.llm.chat(...)), and AEGIS forwards each call to the tenant's",
                "provider with the tenant's own key (bring your own key).", "",
                "Enforced before anything leaves: the model must be listed in the manifest's",
                "permissions.llm.models, and the task's tokens must stay within",
                "permissions.llm.max_tokens_per_task (a stream is ended where it would pass it).",
                "Every call is audited (model, tokens, latency, decision) and its tokens are",
                "metered into `aegis usage`. The key stays in the tenant's secrets store and",
                "never enters a sandbox.", "",
                "Example (set up once per tenant, as an admin):",
                "  aegis secrets set OPENAI_API_KEY < key.txt",
                "  aegis llm provider set --kind openai \\",
                "      --base-url https://api.openai.com/v1 --key-secret OPENAI_API_KEY",
                "", "Example without a provider account (deterministic answers, for tests, demos):",
                "  aegis llm serve --port 8089",
                "  aegis llm provider set --kind openai \\",
                "      --base-url http://127.0.0.1:8089/v1 --key-secret LOCAL_KEY"},
        subcommands = {LlmCommand.Serve.class, LlmCommand.Provider.class})
final class LlmCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Runs the local model server (OpenAI and Anthropic APIs, deterministic answers).", "",
                    "A real HTTP server that speaks OpenAI's chat completions (streaming and not,",
                    "with token usage) and embeddings, and Anthropic's Messages API.", "",
                    "It is not a model. A chat answer is an extractive summary of the last user",
                    "message (the three sentences that carry its most frequent words, in order),",
                    "so the same question always gets the same answer; max_tokens cuts it",
                    "(finish_reason length). Embeddings are deterministic unit vectors in which",
                    "texts sharing words lie close. Tokens are counted as AEGIS estimates them:",
                    "4 characters a token.", "",
                    "Endpoints:",
                    "  POST /v1/chat/completions  as --kind openai    --base-url http://HOST:PORT/v1",
                    "  POST /v1/embeddings",
                    "  POST /v1/messages          as --kind anthropic --base-url http://HOST:PORT",
                    "  GET  /v1/models", "",
                    "Example:",
                    "  aegis llm serve --port 8089",
                    "  curl -s localhost:8089/v1/chat/completions \\",
                    "    -H 'Content-Type: application/json' -d '{\"model\": \"any\",",
                    "    \"messages\": [{\"role\": \"user\", \"content\": \"Summarize this. ...\"}]}'"})
    static final class Serve implements java.util.concurrent.Callable<Integer> {
        @Option(names = "--port", defaultValue = "8089", description = "TCP port (default ${DEFAULT-VALUE}; 0 = any free port)")
        int port;

        @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to bind (default ${DEFAULT-VALUE})")
        String host;

        @Option(names = "--require-key-env", paramLabel = "NAME",
                description = "answer 401 unless requests carry the key in this environment variable (Bearer or x-api-key), "
                        + "as a real provider would; default: any key or none")
        String keyEnv;

        @Override
        public Integer call() throws InterruptedException {
            if (port < 0 || port > 65535) throw new IllegalArgumentException("--port: " + port + " is not a port (0 to 65535)");
            LocalModelServer server = LocalModelServer.start(host, port);
            if (keyEnv != null) {
                String key = System.getenv(keyEnv);
                if (key == null || key.isBlank()) {
                    server.close();
                    throw new IllegalArgumentException("--require-key-env: $" + keyEnv + " is not set");
                }
                server.requireKey(key);
            }
            CountDownLatch stop = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                server.close();
                stop.countDown();
            }));
            System.out.println("aegis: local model server on " + server.anthropicBaseUrl() + " (Ctrl-C to stop)");
            System.out.println("  openai base URL:    " + server.openAiBaseUrl());
            System.out.println("  anthropic base URL: " + server.anthropicBaseUrl());
            System.out.flush();
            stop.await();
            return 0;
        }
    }

    @Command(name = "provider", mixinStandardHelpOptions = true,
            description = {"Sets, shows and removes the tenant's LLM provider.", "",
                    "Set and delete need an admin key. A provider is a protocol (openai: any OpenAI-compatible API;",
                    "anthropic: the Messages API, translated to and from the OpenAI shape), a",
                    "base URL, and the NAME of a tenant secret holding the key.", "",
                    "Examples:",
                    "  aegis llm provider set --kind openai \\",
                    "      --base-url https://api.openai.com/v1 --key-secret OPENAI_API_KEY",
                    "  aegis llm provider set --kind anthropic \\",
                    "      --base-url https://api.anthropic.com --key-secret ANTHROPIC_API_KEY",
                    "  aegis llm provider get", "  aegis llm provider delete"},
            subcommands = {Provider.Set.class, Provider.Get.class, Provider.Delete.class})
    static final class Provider implements Runnable {
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(System.out);
        }

        @Command(name = "set", mixinStandardHelpOptions = true, sortOptions = false,
                description = {"Sets (creates or replaces) the tenant's LLM provider.", "",
                        "The key's secret must exist already (`aegis secrets set NAME`); the key itself",
                        "is never given here.", "",
                        "Example:", "  aegis llm provider set --kind openai \\",
                        "      --base-url https://api.openai.com/v1 --key-secret OPENAI_API_KEY"})
        static final class Set implements java.util.concurrent.Callable<Integer> {
            @Mixin
            Client client;

            @Option(names = "--kind", required = true, description = "openai (any OpenAI-compatible API) or anthropic (the Messages API)")
            String kind;

            @Option(names = "--base-url", required = true, description = "openai: up to /v1, e.g. https://api.openai.com/v1; "
                    + "anthropic: before /v1, e.g. https://api.anthropic.com")
            String baseUrl;

            @Option(names = "--key-secret", required = true, description = "the tenant secret that holds the API key, e.g. OPENAI_API_KEY")
            String keySecret;

            @Override
            public Integer call() throws Exception {
                String body = Client.JSON.writeValueAsString(Map.of("kind", kind, "base_url", baseUrl, "key_secret", keySecret));
                JsonNode p = client.send(client.request("/v1/llm/provider").header("Content-Type", "application/json")
                        .PUT(HttpRequest.BodyPublishers.ofString(body)).build());
                System.out.println("llm provider: " + line(p));
                return 0;
            }
        }

        @Command(name = "get", mixinStandardHelpOptions = true, description = {"Shows the tenant's LLM provider.", "",
                "Example:", "  aegis llm provider get"})
        static final class Get implements java.util.concurrent.Callable<Integer> {
            @Mixin
            Client client;

            @Override
            public Integer call() throws Exception {
                System.out.println(line(client.get("/v1/llm/provider")));
                return 0;
            }
        }

        @Command(name = "delete", mixinStandardHelpOptions = true, description = {"Removes the tenant's LLM provider.", "",
                "Agents' LLM calls then fail with llm_not_configured. The key's secret stays.", "", "Example:", "  aegis llm provider delete"})
        static final class Delete implements java.util.concurrent.Callable<Integer> {
            @Mixin
            Client client;

            @Override
            public Integer call() throws Exception {
                client.send(client.request("/v1/llm/provider").DELETE().build());
                System.out.println("llm provider deleted");
                return 0;
            }
        }

        private static String line(JsonNode p) {
            return p.path("kind").asText() + " " + p.path("base_url").asText() + " (key in secret " + p.path("key_secret").asText()
                    + ", updated " + p.path("updated_at").asText() + ")";
        }
    }
}
