package dev.exegpt.job.cluster;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import dev.exegpt.job.config.JobConfig;
import dev.exegpt.job.pipeline.ExegptJob;
import dev.exegpt.job.pipeline.PipelineSettings;

/**
 * Submits the streaming job to a running Flink cluster (any session cluster: {@code exegpt cluster start}, standalone,
 * Kubernetes) through its REST endpoint: the job graph is built here and sent with the shaded job jar, which the
 * TaskManagers load the job's classes from (Flink's own classes load parent-first there).
 */
public final class ClusterSubmission {

    private ClusterSubmission() {}

    /** {@code HOST:PORT} parsed; throws IllegalArgumentException that says what is expected. */
    public record Address(String host, int port) {
        public static Address parse(String hostPort) {
            int colon = hostPort == null ? -1 : hostPort.lastIndexOf(':');
            if (colon <= 0 || colon == hostPort.length() - 1) {
                throw new IllegalArgumentException("expected HOST:PORT of the JobManager's REST endpoint, e.g. 127.0.0.1:8081, got '" + hostPort + "'");
            }
            int port;
            try {
                port = Integer.parseInt(hostPort.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected HOST:PORT with a numeric port, got '" + hostPort + "'");
            }
            if (port < 1 || port > 65_535) {
                throw new IllegalArgumentException("port must be in [1, 65535], got " + port);
            }
            return new Address(hostPort.substring(0, colon), port);
        }

        @Override
        public String toString() {
            return host + ":" + port;
        }
    }

    /**
     * Checks that a Flink REST endpoint answers at {@code address}; throws IOException saying so if not. Returns the
     * cluster's Flink version.
     */
    public static String checkReachable(Address address) throws IOException {
        try {
            return new ClusterRest(address.toString(), Duration.ofSeconds(5)).overview().path("flink-version").asText("?");
        } catch (IOException e) {
            throw new IOException("no Flink JobManager answers at http://" + address + " (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + "); start one with 'exegpt cluster start' or give the"
                    + " REST address (rest.address:rest.port) of a running cluster", e);
        }
    }

    /** Submits the job detached and returns its id; the job runs on the cluster until cancelled. */
    public static JobID submit(Address address, Path jobJar, Configuration flink, JobConfig config, PipelineSettings settings)
            throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createRemoteEnvironment(address.host(), address.port(),
                flink, jobJar.toAbsolutePath().toString());
        env.setParallelism(Math.max(1, config.numExecutors()));
        ExegptJob.addStreamingJob(env, config, settings);
        JobClient client = env.executeAsync("exegpt " + settings.schedule().getScheduleId());
        return client.getJobID();
    }
}
