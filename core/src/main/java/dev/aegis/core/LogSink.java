package dev.aegis.core;

/** Receives an agent's stderr, one line at a time, as it is written. */
@FunctionalInterface
public interface LogSink {
    void line(String line);
}
