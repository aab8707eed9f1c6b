package dev.aegis.core;

import java.util.regex.Pattern;

/** Names one sandbox instance; safe to use in file names and cgroup names. */
public record InstanceId(String value) {
    private static final Pattern SAFE = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

    public InstanceId {
        if (value == null || !SAFE.matcher(value).matches())
            throw new IllegalArgumentException("instance id: \"" + value + "\" must match " + SAFE.pattern());
    }

    @Override
    public String toString() {
        return value;
    }
}
