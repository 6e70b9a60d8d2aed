package dev.exegpt.job.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;

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
     * When the job last entered {@code state} (epoch ms, the JobManager's clock), or 0 if it never did, from the
     * {@code timestamps} of {@code GET /jobs/:id}. Unlike polling {@link #jobState}, this does not miss a short state:
     * the REST endpoint serves a cached view of the job (up to {@code web.refresh-interval}, 3 s, old), and a restart
     * can pass through RESTARTING in about a second.
     */
    public long stateEnteredAtMs(String jobId, String state) throws IOException {
        return get("/jobs/" + jobId).path("timestamps").path(state).asLong(0);
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

    /**
     * The TaskManagers ({@code taskmanager.resource-id}) that run at least one subtask of the job, from
     * {@code GET /jobs/:id/vertices/:vid/taskmanagers} for each vertex.
     */
    public Set<String> taskManagersRunning(String jobId) throws IOException {
        Set<String> ids = new TreeSet<>();
        for (JsonNode vertex : get("/jobs/" + jobId).path("vertices")) {
            for (JsonNode tm : get("/jobs/" + jobId + "/vertices/" + vertex.path("id").asText() + "/taskmanagers").path("taskmanagers")) {
                if (tm.path("status-counts").path("RUNNING").asInt() > 0) {
                    ids.add(tm.path("taskmanager-id").asText());
                }
            }
        }
        return ids;
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
