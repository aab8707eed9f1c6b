package dev.aegis.bench;

import java.util.List;
import java.util.Random;

/** Agent output of the kinds Cortex indexes (deploy logs, tickets, reviews, parsed invoices), generated for benchmarks. */
final class Texts {
    private static final List<String> SERVICES = List.of("billing", "checkout", "search", "payments", "auth", "inventory", "reports",
            "media", "pricing", "notifications", "ledger", "gateway");
    private static final List<String> PROBLEMS = List.of("timed out waiting for a lock", "ran out of memory", "returned HTTP 502",
            "failed its readiness probe", "hit the rate limit of the upstream API", "could not resolve the database host",
            "lost its connection to the message broker", "exceeded the disk quota", "rejected an expired TLS certificate",
            "deadlocked on two concurrent migrations");
    private static final List<String> FIXES = List.of("rolled back to the previous release", "raised the memory limit",
            "added exponential backoff with jitter", "rotated the credentials", "increased the connection pool",
            "renewed the certificate", "pruned old snapshots", "pinned the dependency", "split the migration in two",
            "moved the job to off-peak hours");
    private static final List<String> PEOPLE = List.of("Anna", "Tom", "Priya", "Lukas", "Chen", "Fatima", "Diego", "Sara");

    private Texts() {}

    /** One chunk of 60-120 words: a few log lines about one incident. */
    static String chunk(Random r, int i) {
        String svc = pick(r, SERVICES), problem = pick(r, PROBLEMS), fix = pick(r, FIXES);
        StringBuilder b = new StringBuilder();
        b.append(String.format("[%02d:%02d:%02d] deploy of %s-service v%d.%d.%d started by %s (run %d)%n", r.nextInt(24), r.nextInt(60),
                r.nextInt(60), svc, 1 + r.nextInt(5), r.nextInt(20), r.nextInt(10), pick(r, PEOPLE), i));
        b.append(String.format("%s-service %s after %d s on %d of %d replicas; error rate rose to %.1f%%%n", svc, problem, 5 + r.nextInt(300),
                1 + r.nextInt(4), 4 + r.nextInt(8), r.nextDouble() * 10));
        for (int k = 0, extra = 2 + r.nextInt(4); k < extra; k++)
            b.append(String.format("checked %s: p99 latency %d ms, queue depth %d, %d pods ready%n", pick(r, SERVICES), 20 + r.nextInt(900),
                    r.nextInt(500), 1 + r.nextInt(12)));
        b.append(String.format("resolution: %s; ticket OPS-%d closed by %s%n", fix, 1000 + r.nextInt(9000), pick(r, PEOPLE)));
        return b.toString();
    }

    /** A question an agent might ask its memory. */
    static String question(Random r) {
        return switch (r.nextInt(3)) {
            case 0 -> "why did the " + pick(r, SERVICES) + " deploy fail";
            case 1 -> "how was it fixed when " + pick(r, SERVICES) + " " + pick(r, PROBLEMS);
            default -> "what do we do when a service " + pick(r, PROBLEMS);
        };
    }

    private static String pick(Random r, List<String> l) {
        return l.get(r.nextInt(l.size()));
    }
}
