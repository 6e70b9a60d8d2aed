package dev.exegpt.job.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** The few calls of a JobManager's REST API that the cluster commands and tests need (Flink's REST API, v1). */
public final class ClusterRest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String baseUrl;
    private final HttpClient http;
    private final Duration timeout;

    /** {@code hostPort} as {@code HOST:PORT} of the REST endpoint. */
    public ClusterRest(String hostPort, Duration timeout) {
        this.baseUrl = "http://" + hostPort;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    public String baseUrl() {
        return baseUrl;
    }

    /** {@code GET /overview}: task managers, slots, jobs, Flink version. */
    public JsonNode overview() throws IOException {
        return get("/overview");
    }

    /** Registered TaskManagers. */
    public int numTaskManagers() throws IOException {
        return overview().path("taskmanagers").asInt();
    }

    /** The job's state ({@code RUNNING}, {@code RESTARTING}, ...). */
    public String jobState(String jobId) throws IOException {
        return get("/jobs/" + jobId).path("state").asText();
    }

    /**
     * Whether every task of the job (each parallel subtask) is RUNNING, from {@code GET /jobs/overview}: the job's state
     * turns RUNNING before its tasks are deployed and initialised.
     */
    public boolean allTasksRunning(String jobId) throws IOException {
        for (JsonNode job : get("/jobs/overview").path("jobs")) {
            if (job.path("jid").asText().equals(jobId)) {
                JsonNode tasks = job.path("tasks");
                return job.path("state").asText().equals("RUNNING") && tasks.path("total").asInt() > 0
                        && tasks.path("running").asInt() == tasks.path("total").asInt();
            }
        }
        return false;
    }

    /** Cancels a job ({@code PATCH /jobs/:id?mode=cancel}). */
    public void cancel(String jobId) throws IOException {
        send(HttpRequest.newBuilder(URI.create(baseUrl + "/jobs/" + jobId + "?mode=cancel"))
                .method("PATCH", HttpRequest.BodyPublishers.noBody()).timeout(timeout).build());
    }

    private JsonNode get(String path) throws IOException {
        return JSON.readTree(send(HttpRequest.newBuilder(URI.create(baseUrl + path)).GET().timeout(timeout).build()));
    }

    private String send(HttpRequest request) throws IOException {
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() / 100 != 2) {
                throw new IOException(request.method() + " " + request.uri() + " answered " + response.statusCode() + ": "
                        + response.body());
            }
            return response.body();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while calling " + request.uri(), e);
        }
    }
}
