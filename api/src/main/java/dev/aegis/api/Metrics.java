package dev.aegis.api;

import dev.aegis.core.Orchestrator;
import dev.aegis.core.Task;
import dev.aegis.core.TaskEvents;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;

/**
 * Prometheus metrics of one node: HTTP requests by route and status, rejections by reason, tasks ended by state,
 * sandbox boot time per runtime, queue depth, running tasks, warm instances, and the JVM.
 */
public final class Metrics implements TaskEvents.Observer {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    public Metrics(Orchestrator orchestrator) {
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        Gauge.builder("aegis.tasks.queued", orchestrator, Orchestrator::queuedCount).description("tasks waiting for a slot").register(registry);
        Gauge.builder("aegis.tasks.running", orchestrator, Orchestrator::runningCount).description("tasks holding a slot").register(registry);
        Gauge.builder("aegis.instances.warm", orchestrator, Orchestrator::warmCount).description("warm instances in pools").register(registry);
        orchestrator.events().observe(this);
    }

    @Override
    public void ended(Task task) {
        Counter.builder("aegis.tasks.ended").tag("state", task.state().name().toLowerCase())
                .tag("reason", task.error().map(Task.TaskError::code).orElse("completed")).register(registry).increment();
    }

    @Override
    public void booted(String runtime, Duration took) {
        Timer.builder("aegis.sandbox.boot").tag("runtime", runtime).publishPercentileHistogram()
                .description("spawn of a sandbox up to its warm state").register(registry).record(took);
    }

    /**
     * Meters by their tags, looked up once: building and registering a meter on every request cost more than
     * recording into it. Bounded: routes are templates and statuses and reasons are few.
     */
    private final java.util.Map<String, Timer> timers = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.Map<String, Counter> rejections = new java.util.concurrent.ConcurrentHashMap<>();

    void request(String method, String route, int status, long nanos) {
        timers.computeIfAbsent(method + ' ' + route + ' ' + status, k -> Timer.builder("aegis.http.requests").tag("method", method)
                .tag("route", route).tag("status", Integer.toString(status)).register(registry)).record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    void rejected(String reason) {
        rejections.computeIfAbsent(reason, r -> Counter.builder("aegis.rejections").tag("reason", r).register(registry)).increment();
    }

    String scrape() {
        return registry.scrape();
    }
}
