package dev.aegis.core;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/** In-process fan-out of a running task's log lines and its end, for live streams (SSE). */
public final class TaskEvents {
    /** Receives lines as they come, then one call to {@link #ended} when the task reached a final state. */
    public interface Listener {
        void line(LogLine line);

        void ended(Task task);
    }

    /** Node-wide observer, for metrics and coordination: every task's end and every sandbox boot. */
    public interface Observer {
        void ended(Task task);

        void booted(String runtime, java.time.Duration took);

        /** Lifecycle steps of {@code task} (as it is now), once they are stored; called under the task's monitor. */
        default void moved(Task task, List<Transition> steps) {}
    }

    private final Map<String, List<Listener>> listeners = new ConcurrentHashMap<>();
    private final List<Observer> observers = new CopyOnWriteArrayList<>();

    public void observe(Observer observer) {
        observers.add(observer);
    }

    void booted(String runtime, java.time.Duration took) {
        for (Observer o : observers) o.booted(runtime, took);
    }

    public void subscribe(String taskId, Listener listener) {
        listeners.computeIfAbsent(taskId, k -> new CopyOnWriteArrayList<>()).add(listener);
    }

    public void unsubscribe(String taskId, Listener listener) {
        listeners.computeIfPresent(taskId, (k, list) -> {
            list.remove(listener);
            return list.isEmpty() ? null : list;
        });
    }

    void moved(Task task, List<Transition> steps) {
        if (!steps.isEmpty()) for (Observer o : observers) o.moved(task, steps);
    }

    void line(LogLine line) {
        for (Listener l : listeners.getOrDefault(line.taskId(), List.of())) l.line(line);
    }

    void ended(Task task) {
        for (Observer o : observers) o.ended(task);
        List<Listener> gone = listeners.remove(task.id());
        if (gone != null) for (Listener l : gone) l.ended(task);
    }
}
