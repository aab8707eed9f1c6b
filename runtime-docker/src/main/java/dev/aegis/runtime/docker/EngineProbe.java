package dev.aegis.runtime.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Version;

import java.net.URI;

/** Whether the Docker Engine answers, and one line saying so (version, API, default image) or how to fix it. */
record EngineProbe(boolean applicable, String description) {

    static EngineProbe run(DockerClient docker, URI host, String defaultImage) {
        Version v;
        try {
            docker.pingCmd().exec();
            v = docker.versionCmd().exec();
        } catch (RuntimeException e) {
            return new EngineProbe(false, "docker engine at " + host + " does not answer (" + rootCause(e) + "): " + Diagnosis.START_ENGINE);
        }
        String engine = "docker engine " + v.getVersion() + " (API " + v.getApiVersion() + ") at " + host;
        try {
            docker.inspectImageCmd(defaultImage).exec();
            return new EngineProbe(true, engine + ", default image " + defaultImage);
        } catch (NotFoundException e) {
            return new EngineProbe(true, engine + ", default image " + defaultImage + " missing: build it with tools/docker-image.sh");
        }
    }

    private static String rootCause(Throwable e) {
        while (e.getCause() != null && e.getCause() != e) e = e.getCause();
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
