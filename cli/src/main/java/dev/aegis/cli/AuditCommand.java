package dev.aegis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.audit.AuditVerifier;
import dev.aegis.audit.FileAuditLog;
import dev.aegis.core.AuditVerification;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "audit", mixinStandardHelpOptions = true,
        description = {"Checks and reads the tamper-evident audit log: every deploy, task, policy decision and lifecycle step.", "",
                "Example:", "  aegis audit verify --pubkey audit.pub", "  aegis audit tail -f"},
        subcommands = {AuditCommand.Verify.class, AuditCommand.PublicKey.class, AuditCommand.Tail.class,
                AuditCommand.Prove.class, AuditCommand.Export.class, AuditCommand.Archive.class})
final class AuditCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    static Path auditDir(Path data) {
        return DataDir.resolve(data).resolve("audit");
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = {"Checks the whole hash chain and every signed checkpoint, and names the first bad record.",
                    "Reads the files only, so it also works while the server runs. Exit code 0 when intact, 1 when not.",
                    "Pass the public key you kept elsewhere (`aegis audit pubkey` printed it): the key file beside the",
                    "log proves nothing to someone who could also rewrite the log.", "",
                    "Example:", "  aegis audit verify --pubkey ~/aegis-audit.pub", "  aegis audit verify --from 100000"})
    static final class Verify implements java.util.concurrent.Callable<Integer> {
        @Option(names = "--from", defaultValue = "1", description = "first sequence number to check (default ${DEFAULT-VALUE})")
        long from;

        @Option(names = "--pubkey", description = "PEM file of the signing key (default: the one beside the log)")
        Path pubkey;

        @Option(names = "--data", description = "data folder (default $AEGIS_DATA, else ~/.aegis)")
        Path data;

        @Override
        public Integer call() throws Exception {
            Path dir = auditDir(data);
            Path keyFile = pubkey != null ? pubkey : dir.resolve("signing.key.pub");
            if (!Files.isRegularFile(keyFile))
                throw new IllegalArgumentException(keyFile + " does not exist: no audit log in " + dir + " (or pass --pubkey)");
            long[] lastShown = {0};
            AuditVerification v = AuditVerifier.verifyFolder(dir, from, Files.readString(keyFile), (seq, last) -> {
                if (seq - lastShown[0] >= 100_000 || seq == last) {
                    System.err.printf("aegis: checked %,d of %,d records%n", seq, last);
                    lastShown[0] = seq;
                }
            });
            return switch (v) {
                case AuditVerification.Intact i -> {
                    System.out.printf("intact: records %d..%d (%,d records, %d signed checkpoints; records after %d are chained, "
                            + "not yet signed)%n", i.fromSeq(), i.lastSeq(), i.records(), i.checkpoints(), i.lastCheckpointSeq());
                    yield 0;
                }
                case AuditVerification.Broken b -> {
                    System.out.println("BROKEN at record " + b.firstBadSeq() + ": " + b.problem());
                    yield 1;
                }
            };
        }
    }

    @Command(name = "archive", mixinStandardHelpOptions = true,
            description = {"Moves closed, signed segments below a sequence number to archive/, gzip-compressed.",
                    "They stay part of the chain: verify, query and export still read them. Run it with the server stopped.", "",
                    "Example:", "  aegis audit archive --before 1000000"})
    static final class Archive implements java.util.concurrent.Callable<Integer> {
        @Option(names = "--before", required = true, description = "archive segments whose records are all below this seq")
        long before;

        @Option(names = "--data", description = "data folder (default $AEGIS_DATA, else ~/.aegis)")
        Path data;

        @Override
        public Integer call() {
            try (DataLock lock = DataLock.acquire(DataDir.resolve(data));
                 FileAuditLog log = FileAuditLog.open(auditDir(data))) {
                int n = log.archive(before);
                System.out.println("archived " + n + " segment(s) into " + log.dir().resolve("archive"));
            }
            return 0;
        }
    }

    @Command(name = "pubkey", mixinStandardHelpOptions = true,
            description = {"Prints the public key that signs the log's checkpoints. Keep a copy off this host.", "",
                    "Example:", "  aegis audit pubkey > ~/aegis-audit.pub"})
    static final class PublicKey implements java.util.concurrent.Callable<Integer> {
        @Option(names = "--data", description = "data folder (default $AEGIS_DATA, else ~/.aegis)")
        Path data;

        @Override
        public Integer call() throws Exception {
            Path file = auditDir(data).resolve("signing.key.pub");
            if (!Files.isRegularFile(file))
                throw new IllegalArgumentException("no audit log in " + file.getParent() + " yet: start `aegis server` once");
            System.out.print(Files.readString(file));
            return 0;
        }
    }

    @Command(name = "tail", mixinStandardHelpOptions = true,
            description = {"Prints the newest audit records from a server; -f keeps printing new ones.", "",
                    "Example:", "  aegis audit tail -n 20", "  aegis audit tail -f"})
    static final class Tail implements java.util.concurrent.Callable<Integer> {
        @Mixin
        Client client;

        @Option(names = {"-f", "--follow"}, description = "keep printing records as they are written")
        boolean follow;

        @Option(names = "-n", defaultValue = "10", description = "records to show first (default ${DEFAULT-VALUE})")
        int count;

        @Override
        public Integer call() throws Exception {
            long last = client.get("/v1/audit?limit=1").path("last_seq").asLong();
            long after = Math.max(0, last - count);
            while (true) {
                JsonNode page = client.get("/v1/audit?limit=1000&after=" + after);
                for (JsonNode r : page.path("records")) {
                    System.out.printf("%d %s %s %s %s %s%s%n", r.path("seq").asLong(), r.path("time").asText(),
                            r.path("tenant").asText(), r.path("actor").asText(), r.path("action").asText(),
                            r.path("target").asText(), r.has("reason") ? " (" + r.path("reason").asText() + ")" : "");
                    after = r.path("seq").asLong();
                }
                if (!follow) return 0;
                if (page.path("records").isEmpty()) Thread.sleep(500);
            }
        }
    }

    @Command(name = "prove", mixinStandardHelpOptions = true,
            description = {"Prints the inclusion proof of one record in its signed checkpoint (Certificate Transparency style).", "",
                    "Example:", "  aegis audit prove 42"})
    static final class Prove implements java.util.concurrent.Callable<Integer> {
        @Mixin
        Client client;

        @Parameters(index = "0", description = "sequence number of the record")
        long seq;

        @Override
        public Integer call() throws Exception {
            System.out.println(Client.pretty(client.get("/v1/audit/" + seq + "/proof")));
            return 0;
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = {"Writes records and checkpoints as JSON Lines, verifiable with tools/verify_audit.py.", "",
                    "Example:", "  aegis audit export --from 1 > audit.jsonl && python3 tools/verify_audit.py audit.jsonl"})
    static final class Export implements java.util.concurrent.Callable<Integer> {
        @Mixin
        Client client;

        @Option(names = "--from", defaultValue = "1", description = "first sequence number (default ${DEFAULT-VALUE})")
        long from;

        @Override
        public Integer call() throws Exception {
            HttpResponse<InputStream> r = client.http().send(client.request("/v1/audit/export?from=" + from).GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            if (r.statusCode() != 200) throw new IllegalStateException("HTTP " + r.statusCode() + " from the server");
            try (InputStream in = r.body()) {
                in.transferTo(System.out);
            }
            System.out.flush();
            return 0;
        }
    }
}
