package dev.aegis.core;

import java.util.Set;

/**
 * Lifecycle of one sandbox instance: {@code Cold -> Warm -> Hot -> Terminated | Failed}.
 * Any non-final state may fail; final states never move.
 */
public enum InstanceState {
    COLD, WARM, HOT, TERMINATED, FAILED;

    public boolean isFinal() {
        return this == TERMINATED || this == FAILED;
    }

    public Set<InstanceState> next() {
        return switch (this) {
            case COLD -> Set.of(WARM, FAILED);
            case WARM -> Set.of(HOT, TERMINATED, FAILED);
            case HOT -> Set.of(TERMINATED, FAILED);
            case TERMINATED, FAILED -> Set.of();
        };
    }

    public boolean canMoveTo(InstanceState to) {
        return next().contains(to);
    }
}
