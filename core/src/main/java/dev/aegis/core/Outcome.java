package dev.aegis.core;

import java.time.Duration;

/** How an agent process ended. */
public sealed interface Outcome {
    /** The process exited by itself. {@code output} is stdout, or {@code /run/aegis/result.json} when stdout was empty. */
    record Exited(int code, String output, boolean outputTruncated) implements Outcome {}

    /** The runtime killed it: cancelled, out of memory, output too large, sandbox failure. */
    record Killed(String reason) implements Outcome {}

    /** The wall-clock timeout of the manifest ran out; the whole tree was killed. */
    record TimedOut(Duration after) implements Outcome {}
}
