package dev.exegpt.job.bench;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.exegpt.schemas.FinishReason;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.RequestLatency;

/**
 * Hugging Face transformers' {@code generate()} as the peer a user would run instead, driven through
 * {@code gpu-udf/python/hf_serve.py} in the Python of {@code gpu-udf/target/hf-venv} (made by
 * {@code gpu-udf/python/setup-venv.sh}): the bench's checkpoint directory loaded with {@code from_pretrained}, torch
 * threads = the machine's cores, static batches, forced output lengths. This class finds the Python, sweeps the batch
 * size and runs a round; every result comes back as an {@link InferenceResult} on the bench's clock, so the same
 * figures ({@code RunFigures}) count it as they count the job's results.
 */
public final class TransformersPeer {

    public static final String NAME = "TRANSFORMERS";
    static final String SCRIPT = "gpu-udf/python/hf_serve.py";
    static final String VENV_PYTHON = "gpu-udf/target/hf-venv/bin/python";
    static final String SETUP = "run gpu-udf/python/setup-venv.sh (about 40 s from this machine's local wheels)";
    /** Batch sizes swept: powers of two, as a user tunes generate()'s batch, up to a round's requests. */
    static final int MAX_SWEPT_BATCH = 64;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path python;
    private final Path script;
    private final String source;

    private TransformersPeer(Path python, Path script, String source) {
        this.python = python;
        this.script = script;
        this.source = source;
    }

    /** What {@link #probe} found: a peer that runs, or the one-line reason it is skipped. */
    public record Probe(TransformersPeer peer, String skipReason) {
        public boolean found() {
            return peer != null;
        }
    }

    /**
     * Finds the peer. {@code pythonOption}: "off" (skipped), "auto" (EXEGPT_HF_PYTHON, else {@value #VENV_PYTHON} under
     * {@code home}) or a Python executable. {@code home}: the repository (EXEGPT_HOME, else the first folder at or above
     * the working directory that holds {@value #SCRIPT}); null when none. The Python must import torch and transformers.
     */
    public static Probe probe(String pythonOption, Path home) {
        if (pythonOption.equals("off")) return skipped("--transformers off");
        if (home == null || !Files.isRegularFile(home.resolve(SCRIPT))) {
            return skipped(SCRIPT + " not found at or above the working directory (set EXEGPT_HOME to the repository)");
        }
        Path py;
        if (pythonOption.equals("auto")) {
            String env = System.getenv("EXEGPT_HF_PYTHON");
            py = env != null && !env.isBlank() ? Path.of(env) : home.resolve(VENV_PYTHON);
            if (!Files.isExecutable(py)) return skipped("no Python with torch and transformers at " + py + "; " + SETUP);
        } else {
            py = Path.of(pythonOption);
        }
        try {
            Process p = new ProcessBuilder(py.toString(), home.resolve(SCRIPT).toString(), "version").redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return skipped(py + " did not answer within 120 s");
            }
            String last = output.isEmpty() ? "exit code " + p.exitValue() : output.lines().reduce((a, b) -> b).orElse("");
            if (p.exitValue() != 0) return skipped(py + " cannot import torch and transformers (" + last + "); " + SETUP);
            return new Probe(new TransformersPeer(py, home.resolve(SCRIPT), last), null);
        } catch (IOException e) {
            return skipped(py + " does not run (" + e.getMessage() + "); " + SETUP);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return skipped("interrupted while probing " + py);
        }
    }

    /** EXEGPT_HOME (bin/exegpt sets it), else the first folder at or above the working directory holding the script. */
    public static Path home() {
        String env = System.getenv("EXEGPT_HOME");
        if (env != null && !env.isBlank()) return Path.of(env);
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve(SCRIPT))) return d;
        }
        return null;
    }

    private static Probe skipped(String reason) {
        return new Probe(null, reason);
    }

    /** "transformers 5.18.0, torch 2.13.0+cpu". */
    public String source() {
        return source;
    }

    /** One measured batch size of the sweep: a generate() of {@code batch} prompts forced to the bound output length. */
    public record SweepPoint(int batch, double latencyMs, double requestsPerSecond) {}

    /**
     * The batch sizes swept: powers of two up to {@code maxBatch} (a round's requests; a larger batch never fills) and
     * {@value #MAX_SWEPT_BATCH}.
     */
    public static List<Integer> sweptBatches(int maxBatch) {
        List<Integer> out = new ArrayList<>();
        for (int b = 1; b <= Math.min(maxBatch, MAX_SWEPT_BATCH); b *= 2) out.add(b);
        return out;
    }

    /**
     * The batch a user tunes generate() to for the SLO, by the rule the bench's STATIC follows ({@code Baselines.best}):
     * the most requests/s among the batches whose latency meets the SLO; batch 1 when none does.
     */
    public static int bestBatch(List<SweepPoint> points, double sloMs) {
        return points.stream().filter(p -> p.latencyMs() <= sloMs)
                .max(java.util.Comparator.comparingDouble(SweepPoint::requestsPerSecond)).map(SweepPoint::batch).orElse(1);
    }

    /**
     * Two generate() calls per batch size of {@link #sweptBatches} (the faster counts), the prompts of the first B of
     * {@code requests} (the round's own, so that a batch pads to what the round's batches pad to), outputs forced to
     * {@code outputTokens} (the task's bound length: the SLO's definition), stopping after the first batch over the SLO.
     */
    public List<SweepPoint> sweep(Path model, int threads, List<Request> requests, int outputTokens, double sloMs, Path workDir)
            throws IOException, InterruptedException {
        Path out = workDir.resolve("transformers-sweep.json");
        Files.deleteIfExists(out);
        Path in = writeRequests(requests, workDir);
        List<String> batches = sweptBatches(requests.size()).stream().map(String::valueOf).toList();
        run(workDir.resolve("transformers-sweep.log"), 900, "sweep", "--model", model.toString(), "--threads",
                Integer.toString(threads), "--batches", String.join(",", batches), "--requests", in.toString(),
                "--output-tokens", Integer.toString(outputTokens), "--slo-ms", Double.toString(sloMs), "--out", out.toString());
        List<SweepPoint> points = new ArrayList<>();
        for (JsonNode p : JSON.readTree(out.toFile()).get("points")) {
            points.add(new SweepPoint(p.get("batch").asInt(), p.get("latencyMs").asDouble(), p.get("requestsPerSecond").asDouble()));
        }
        if (points.isEmpty()) throw new IOException(SCRIPT + " sweep measured no batch");
        return points;
    }

    /** One request of a round: id, arrival in ms after the round's start, prompt and forced output length. */
    public record Request(String id, double arrivalOffsetMs, int[] inputIds, int numOutputTokens) {}

    /** The round's requests as the peer gets them: the same prompts, output lengths and offsets as the job's arms. */
    public static List<Request> requests(List<FidelityRun.Drawn> drawn, String idPrefix) {
        List<Request> requests = new ArrayList<>(drawn.size());
        double firstMs = drawn.get(0).arrivalMs();
        for (int i = 0; i < drawn.size(); i++) {
            FidelityRun.Lengths l = drawn.get(i).lengths();
            requests.add(new Request(idPrefix + i, drawn.get(i).arrivalMs() - firstMs,
                    FidelityRun.prompt(l.numInputTokens(), i), Math.max(1, l.numOutputTokens())));
        }
        return requests;
    }

    /**
     * One round: the requests at their offsets through generate() in static batches of {@code batch}, each result as
     * an {@link InferenceResult} with the bench's metadata and the SLO held from arrival ({@code sloMet}) as the job does.
     */
    public List<InferenceResult> round(Path model, int threads, int batch, List<Request> requests, String task, long sloMs,
                                       Map<String, String> metadata, Path workDir) throws IOException, InterruptedException {
        Path out = workDir.resolve("transformers-results.jsonl");
        Files.deleteIfExists(out);
        Path in = writeRequests(requests, workDir);
        double lastArrivalS = requests.stream().mapToDouble(Request::arrivalOffsetMs).max().orElse(0) / 1000;
        run(workDir.resolve("transformers-round.log"), (long) (300 + 2 * lastArrivalS + 10L * requests.size()), "serve",
                "--model", model.toString(), "--threads", Integer.toString(threads), "--batch", Integer.toString(batch),
                "--requests", in.toString(), "--out", out.toString());
        List<InferenceResult> results = new ArrayList<>();
        for (String line : Files.readAllLines(out)) {
            if (line.isBlank()) continue;
            results.add(result(JSON.readTree(line), task, sloMs, batch, threads, metadata));
        }
        if (results.size() != requests.size()) {
            throw new IOException(SCRIPT + " answered " + results.size() + " of " + requests.size() + " requests");
        }
        return results;
    }

    /** The requests as hf_serve.py reads them: one JSON object a line. */
    private static Path writeRequests(List<Request> requests, Path workDir) throws IOException {
        Path in = workDir.resolve("transformers-requests.jsonl");
        try (BufferedWriter w = Files.newBufferedWriter(in, StandardCharsets.UTF_8)) {
            for (Request r : requests) {
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("id", r.id());
                line.put("arrivalOffsetMs", r.arrivalOffsetMs());
                line.put("inputIds", r.inputIds());
                line.put("numOutputTokens", r.numOutputTokens());
                w.write(JSON.writeValueAsString(line));
                w.newLine();
            }
        }
        return in;
    }

    /** The layout that ran, as a result's executedLayout names it. */
    public static String layout(int batch, int threads) {
        return String.format(Locale.ROOT, "generate() B=%d, %d torch thread%s", batch, threads, threads == 1 ? "" : "s");
    }

    private InferenceResult result(JsonNode r, String task, long sloMs, int batch, int threads, Map<String, String> metadata) {
        double arrived = r.get("arrivedEpochMs").asDouble();
        double start = r.get("encodeStartEpochMs").asDouble();
        double first = r.get("firstTokenEpochMs").asDouble();
        double end = r.get("completedEpochMs").asDouble();
        int numOut = r.get("numOutputTokens").asInt();
        List<Integer> ids = new ArrayList<>();
        r.get("outputIds").forEach(t -> ids.add(t.asInt()));
        double e2e = end - arrived;
        double ttft = first - arrived;
        RequestLatency latency = RequestLatency.newBuilder().setArrivedEpochMs(Math.round(arrived)).setCompletedEpochMs(Math.round(end))
                .setQueueMs(start - arrived).setEncodeMs(first - start).setDecodeMs(end - first).setTtftMs(ttft)
                .setTpotMs(numOut > 1 ? (e2e - ttft) / (numOut - 1) : 0).setEndToEndMs(e2e).build();
        return InferenceResult.newBuilder().setRequestId(r.get("id").asText()).setTask(task).setOutputTokenIds(ids)
                .setFinishReason(ids.size() >= numOut ? FinishReason.MAX_TOKENS : FinishReason.ERROR)
                .setErrorMessage(ids.size() >= numOut ? null : "transformers gave " + ids.size() + " of " + numOut + " tokens")
                .setNumInputTokens(r.get("numInputTokens").asInt()).setNumOutputTokens(ids.size()).setLatency(latency)
                .setSloLatencyMs(sloMs).setSloMet(e2e <= sloMs).setScheduleId("transformers/static-b" + batch)
                .setExecutorId("transformers").setEncodeBatchSize(r.get("batchSize").asInt())
                .setMeanDecodeBatchSize(r.get("batchSize").asInt()).setExecutedLayout(layout(batch, threads))
                .setMetadata(new LinkedHashMap<>(metadata)).build();
    }

    private void run(Path log, long timeoutS, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(python.toString(), script.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        // The Python process ends with the bench: on a timeout, an exception, an interrupt or the JVM's exit.
        Thread reaper = new Thread(p::destroyForcibly, "hf-serve-reaper");
        Runtime.getRuntime().addShutdownHook(reaper);
        try {
            if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
                throw new IOException(SCRIPT + " " + args[0] + " ran over " + timeoutS + " s (log: " + log + ")");
            }
        } finally {
            if (p.isAlive()) p.destroyForcibly().waitFor();
            try {
                Runtime.getRuntime().removeShutdownHook(reaper);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
        }
        if (p.exitValue() != 0) {
            String last = Files.readAllLines(log).stream().reduce((a, b) -> b).orElse("exit code " + p.exitValue());
            throw new IOException(SCRIPT + " " + args[0] + " failed: " + last + " (log: " + log + ")");
        }
    }
}
