package dev.aegis.core;

/** The answer of a policy check: a plain value, so callers must handle both cases. */
public sealed interface Decision {
    Allow ALLOW = new Allow();

    record Allow() implements Decision {}

    record Deny(String reason) implements Decision {}

    static Decision deny(String reason) {
        return new Deny(reason);
    }

    default boolean allowed() {
        return this instanceof Allow;
    }
}
