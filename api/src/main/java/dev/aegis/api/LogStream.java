package dev.aegis.api;

import dev.aegis.core.LogLine;
import dev.aegis.core.Orchestrator;
import dev.aegis.core.Task;
import dev.aegis.core.TaskEvents;
import io.javalin.http.sse.SseClient;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Server-sent events of one task: stored lines first, then live ones, then an {@code end} event with the task.
 * Subscribes before replaying so no line falls between the two; duplicates are skipped by sequence number.
 */
final class LogStream implements TaskEvents.Listener {
    private final Orchestrator orchestrator;
    private final SseClient client;
    private final String tenant;
    private final BlockingQueue<Object> queue = new LinkedBlockingQueue<>(100_000);

    LogStream(Orchestrator orchestrator, SseClient client, String tenant) {
        this.orchestrator = orchestrator;
        this.client = client;
        this.tenant = tenant;
    }

    @Override
    public void line(LogLine line) {
        queue.offer(line);
    }

    @Override
    public void ended(Task task) {
        queue.offer(task);
    }

    void run() {
        String id = client.ctx().pathParam("id");
        Task task;
        try {
            task = orchestrator.task(tenant, id);
        } catch (dev.aegis.core.AegisException e) {
            client.sendEvent("error", java.util.Map.of("code", e.code(), "message", e.getMessage()));
            client.close();
            return;
        }
        orchestrator.events().subscribe(id, this);
        try {
            long last = 0;
            for (LogLine l : orchestrator.logs(tenant, id, 0)) {
                client.sendEvent("log", Views.log(l));
                last = l.seq();
            }
            task = orchestrator.task(tenant, id);
            while (!task.state().isFinal() && !client.terminated()) {
                Object next = queue.poll(15, TimeUnit.SECONDS);
                if (next == null) {
                    client.sendComment("keep-alive");
                    task = orchestrator.task(tenant, id);
                } else if (next instanceof LogLine l && l.seq() > last) {
                    client.sendEvent("log", Views.log(l));
                    last = l.seq();
                } else if (next instanceof Task t) {
                    task = t;
                }
            }
            for (LogLine l : orchestrator.logs(tenant, id, last)) client.sendEvent("log", Views.log(l));
            client.sendEvent("end", Views.task(task, orchestrator.transitions(tenant, id)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            orchestrator.events().unsubscribe(id, this);
            client.close();
        }
    }
}
