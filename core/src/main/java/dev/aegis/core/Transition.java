package dev.aegis.core;

import java.time.Instant;
import java.util.Optional;

/** One lifecycle step of the instance that ran a task, persisted as it happens. */
public record Transition(String taskId, String instanceId, Optional<InstanceState> from, InstanceState to,
                         Instant at, String reason) {}
