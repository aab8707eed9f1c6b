package dev.aegis.core;

/** A runtime could not build, run or clean up a sandbox. Fails the task, never the orchestrator. */
public class RuntimeFailure extends AegisException {
    public RuntimeFailure(String message) {
        super("runtime_failure", message);
    }

    public RuntimeFailure(String message, Throwable cause) {
        super("runtime_failure", message);
        initCause(cause);
    }
}
