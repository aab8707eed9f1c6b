package dev.aegis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "keys", mixinStandardHelpOptions = true,
        description = {"Creates, lists and revokes API keys (needs an admin key).", "",
                "Roles: admin (keys), deployer (deploy), runner (run, cancel), reader (read). The platform admin (an admin",
                "key of tenant default) can give a new tenant its first key.", "",
                "Example:", "  aegis keys create --tenant acme --role admin", "  aegis keys revoke 3fa85f6457c1"},
        subcommands = {KeysCommand.Create.class, KeysCommand.List.class, KeysCommand.Revoke.class})
final class KeysCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = {"Creates a key and prints its secret, once: only a salted hash is kept.", "",
                    "Example:", "  aegis keys create --role runner --expires-in 24h"})
    static final class Create implements java.util.concurrent.Callable<Integer> {
        @Mixin
        Client client;

        @Option(names = "--role", required = true, description = "admin, deployer, runner or reader")
        String role;

        @Option(names = "--tenant", description = "tenant of the key (default: yours; another needs the platform admin)")
        String tenant;

        @Option(names = "--expires-in", description = "lifetime, e.g. 30m or 720h (default: none)")
        String expiresIn;

        @Override
        public Integer call() throws Exception {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("role", role);
            if (tenant != null) body.put("tenant", tenant);
            if (expiresIn != null) body.put("expires_in", expiresIn);
            JsonNode k = client.post("/v1/keys", body);
            System.out.println(k.path("key").asText());
            System.err.println("aegis: key " + k.path("id").asText() + " for tenant " + k.path("tenant").asText() + ", role "
                    + k.path("role").asText() + (k.has("expires_at") ? ", expires " + k.path("expires_at").asText() : "")
                    + ". Shown once: store it now.");
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = {"Lists a tenant's keys (never their secrets).", "", "Example:", "  aegis keys list --tenant acme"})
    static final class List implements java.util.concurrent.Callable<Integer> {
        @Mixin
        Client client;

        @Option(names = "--tenant", description = "tenant (default: yours)")
        String tenant;

        @Override
        public Integer call() throws Exception {
            for (JsonNode k : client.get("/v1/keys" + (tenant == null ? "" : "?tenant=" + tenant)).path("keys"))
                System.out.printf("%-14s %-10s %-9s created %s%s%s%n", k.path("id").asText(), k.path("tenant").asText(),
                        k.path("role").asText(), k.path("created_at").asText(),
                        k.has("expires_at") ? "  expires " + k.path("expires_at").asText() : "",
                        k.has("revoked_at") ? "  REVOKED " + k.path("revoked_at").asText() : "");
            return 0;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = {"Revokes a key; its next request is refused.", "", "Example:", "  aegis keys revoke 3fa85f6457c1"})
    static final class Revoke implements java.util.concurrent.Callable<Integer> {
        @Mixin
        Client client;

        @Parameters(index = "0", description = "key id (the 12 hex digits after aeg_live_)")
        String id;

        @Option(names = "--tenant", description = "tenant of the key (default: yours)")
        String tenant;

        @Override
        public Integer call() throws Exception {
            JsonNode k = client.send(client.request("/v1/keys/" + id + (tenant == null ? "" : "?tenant=" + tenant)).DELETE().build());
            System.out.println("revoked " + k.path("id").asText() + " at " + k.path("revoked_at").asText());
            return 0;
        }
    }
}
