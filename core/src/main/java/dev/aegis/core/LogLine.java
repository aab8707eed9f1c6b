package dev.aegis.core;

import java.time.Instant;

/** One stderr line of a task; {@code seq} counts from 1 per task. */
public record LogLine(String taskId, long seq, Instant at, String line) {}
