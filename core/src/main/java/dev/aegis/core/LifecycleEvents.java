package dev.aegis.core;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Puts every stored lifecycle step of every task on the bus's durable stream, as
 * {@code aegis.tasks.<agent>.<task id>.<state>} in the task's tenant ({@code cold}, {@code warm}, {@code hot},
 * {@code terminated}, {@code failed}); the last one carries the task's end state and error. Steps are handed to
 * one sender thread through a bounded queue, in order, so a slow bus never slows a task; if the bus falls that
 * far behind, steps are dropped and counted ({@link #dropped()}), and the task store still has every one.
 */
final class LifecycleEvents implements TaskEvents.Observer {
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Step(String tenant, String subject, byte[] payload) {}

    private final Bus bus;
    private final BlockingQueue<Step> queue = new ArrayBlockingQueue<>(10_000);
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final Thread sender;

    LifecycleEvents(Bus bus) {
        this.bus = bus;
        this.sender = Thread.ofVirtual().name("lifecycle-events").start(this::send);
    }

    /** Stops the sender; steps still queued are not published (the store has them). */
    void close() {
        sender.interrupt();
    }

    @Override
    public void moved(Task task, List<Transition> steps) {
        for (Transition t : steps) {
            String state = t.to().name().toLowerCase();
            Step step = new Step(task.tenant(), Subjects.EVENTS + "tasks." + task.agent() + "." + task.id() + "." + state,
                    payload(task, t, state));
            if (!queue.offer(step)) dropped.incrementAndGet();
        }
    }

    @Override
    public void ended(Task task) {}

    @Override
    public void booted(String runtime, java.time.Duration took) {}

    /** Steps not published because the queue to the bus was full. */
    long dropped() {
        return dropped.get();
    }

    private void send() {
        while (true) {
            Step s;
            try {
                s = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            try {
                bus.append(s.tenant(), s.subject(), s.payload());
            } catch (RuntimeException e) {
                failed.incrementAndGet(); // the bus is down or closed; the store keeps the step
            }
        }
    }

    static byte[] payload(Task task, Transition t, String state) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("task", task.id());
        v.put("agent", task.agent());
        task.parent().ifPresent(p -> v.put("parent", p));
        v.put("lifecycle", state);
        v.put("state", task.state().name().toLowerCase());
        v.put("at", t.at().toString());
        if (!t.instanceId().isEmpty()) v.put("instance", t.instanceId());
        v.put("reason", t.reason());
        task.error().ifPresent(e -> v.put("error", Map.of("code", e.code(), "message", e.message())));
        task.exitCode().ifPresent(c -> v.put("exit_code", c));
        try {
            return JSON.writeValueAsBytes(v);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
