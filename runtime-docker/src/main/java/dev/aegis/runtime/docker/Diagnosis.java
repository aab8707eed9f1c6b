package dev.aegis.runtime.docker;

import com.github.dockerjava.api.exception.DockerException;

/** Turns a Docker Engine error into a message that says what failed and how to fix it. */
final class Diagnosis {
    static final String START_ENGINE = "start it with tools/docker-image.sh --engine-only (or: dockerd --iptables=false --bridge=none &)";

    private Diagnosis() {}

    static String of(String what, Throwable e) {
        String why = e instanceof DockerException d ? d.getHttpStatus() + " " + d.getMessage().strip() : String.valueOf(e.getMessage());
        String hint;
        if (why.contains("No such image") || why.contains("pull access denied"))
            hint = "the image is not on this engine: build the default one with tools/docker-image.sh, or load yours with docker load/import";
        else if (why.contains("bind source path does not exist") || why.contains("invalid mount config"))
            hint = "a host path the container binds does not exist: check agentDir, agentLib, agentSocket and the granted mounts";
        else if (why.contains("Conflict") && why.contains("already in use"))
            hint = "a container of that name exists: spawn needs a fresh instance id (or reclaim() a crashed orchestrator's leftovers)";
        else if (why.contains("No such file") && why.contains("docker.sock") || why.contains("Connection refused"))
            hint = "the Docker Engine does not answer: " + START_ENGINE;
        else if (why.contains("Permission denied") && why.contains("docker.sock"))
            hint = "this process may not use the Docker socket: run as root or add the user to the docker group";
        else if (why.contains("OCI runtime"))
            hint = "the container runtime refused the container: the line above says which setting; check `docker info` and the dockerd log";
        else hint = "see the engine's log for details (tools/docker-image.sh logs to /var/lib/aegis-docker/dockerd.log)";
        return what + ": " + why + "; " + hint;
    }
}
