package dev.exegpt.job.config;

import dev.exegpt.operators.core.GpuAssignment;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import dev.exegpt.job.kafka.KafkaClients;
import dev.exegpt.operators.runner.Admission;

/**
 * The job's settings, read from a properties file ({@code flink-conf/exegpt.properties} documents every key) with
 * command-line overrides on top. Flink's own settings (checkpoints, restart strategy, metrics) live in
 * {@code flink-conf/config.yaml}. Every problem is reported with the key, the value and what is expected.
 */
public record JobConfig(String bootstrap, Topics topics, String groupId, String modelDir, String backend,
                        int threadsPerDevice, long kvCacheMib, long requestTimeoutMs, long warmUpMs, Path scheduleFile,
                        ManualSchedule manualSchedule, int numExecutors, Map<String, Long> taskSloLatencyMs,
                        long auditWindowMs, long dedupRememberMs, boolean exactlyOnce, Properties kafkaClient,
                        List<Integer> gpuIndexes, Admission.Mode admission, String stepLogDir, Control control,
                        int maxInFlight) {

    /** The six topics. */
    public record Topics(String requests, String results, String deadLetter, String audit, String schedules, String steps) {}

    /**
     * The control loop (measure, fit, re-plan while the job runs).
     *
     * @param enabled    {@code control.enabled}
     * @param profile    {@code control.profile}: the profile the schedule was planned on; empty: the loop cannot run
     * @param intervalMs {@code control.interval.ms}: least time between two decisions
     * @param dwellMs    {@code control.dwell.ms}: least time a decided schedule stays
     */
    public record Control(boolean enabled, String profile, long intervalMs, long dwellMs) {
        public boolean runs() {
            return enabled && !profile.isEmpty();
        }
    }

    /** A schedule given by hand, used when no schedule file is configured. */
    public record ManualSchedule(String policy, int encodeBatchSize, int decodeIterationsPerEncode, int decodeBatchSize) {}

    public static JobConfig load(Path file, Map<String, String> overrides) throws IOException {
        Properties p = new Properties();
        if (file != null) {
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("--config " + file + ": no such file (flink-conf/exegpt.properties is the documented default)");
            }
            try (Reader reader = Files.newBufferedReader(file)) {
                p.load(reader);
            }
        }
        overrides.forEach(p::setProperty);
        return from(p);
    }

    static JobConfig from(Properties p) {
        Keys r = new Keys(p);
        Topics topics = new Topics(r.string("topic.requests", "exegpt.requests"), r.string("topic.results", "exegpt.results"),
                r.string("topic.deadletter", "exegpt.deadletter"), r.string("topic.audit", "exegpt.audit"),
                r.string("topic.schedules", "exegpt.schedules"), r.string("topic.steps", "exegpt.steps"));
        String scheduleFile = r.string("schedule.file", "");
        ManualSchedule manual = new ManualSchedule(r.oneOf("schedule.policy", "rra", List.of("rra", "static", "continuous")),
                r.integer("schedule.encode.batch", 8, 1, 4096), r.integer("schedule.decode.iterations", 8, 1, 4096),
                r.integer("schedule.decode.batch", 32, 1, 65536));
        Map<String, Long> slos = new TreeMap<>();
        for (String key : p.stringPropertyNames()) {
            if (key.startsWith("task.slo.ms.")) {
                slos.put(key.substring("task.slo.ms.".length()), r.longValue(key, 0, 1, 24L * 3600 * 1000));
            }
        }
        Properties client = new Properties();
        for (String key : p.stringPropertyNames()) {
            if (key.startsWith("kafka.client.")) {
                client.setProperty(key.substring("kafka.client.".length()), p.getProperty(key));
            }
        }
        String delivery = r.oneOf("delivery", "exactly-once", List.of("exactly-once", "at-least-once"));
        return new JobConfig(
                r.string("kafka.bootstrap", System.getenv().getOrDefault("EXEGPT_BOOTSTRAP", "127.0.0.1:9092")),
                topics,
                r.string("kafka.group.id", "exegpt-job"),
                r.required("model.dir", "a checkpoint folder (config.json + model.safetensors), e.g. from 'exegpt model init'"),
                r.oneOf("model.backend", "auto", List.of("auto", "cpu", "cuda")),
                r.integer("executor.threads.per.device", 0, 0, 1024),
                r.longValue("executor.kv.cache.mib", 1024, 1, 1 << 20),
                r.longValue("executor.request.timeout.ms", 600_000, 1_000, 24L * 3600 * 1000),
                r.longValue("executor.warmup.ms", 35_000, 0, 600_000),
                scheduleFile.isBlank() ? null : Path.of(scheduleFile),
                manual,
                r.integer("executors", 1, 1, 1024),
                slos,
                r.longValue("audit.window.ms", 10_000, 100, 24L * 3600 * 1000),
                r.longValue("dedup.remember.ms", 3_600_000, 1_000, 30L * 24 * 3600 * 1000),
                delivery.equals("exactly-once"),
                client,
                GpuAssignment.parseList(r.string("executor.gpu.indexes", "")),
                Admission.Mode.parse(r.oneOf("admission.mode", "off", List.of("off", "reject-late"))),
                r.string("executor.step.log.dir", ""),
                new Control(r.oneOf("control.enabled", "true", List.of("true", "false")).equals("true"), r.string("control.profile", ""),
                        r.longValue("control.interval.ms", 5_000, 100, 3_600_000), r.longValue("control.dwell.ms", 15_000, 0, 24L * 3600 * 1000)),
                r.integer("executor.max.in.flight", 0, 0, 1 << 20));
    }

    /** The settings as key = value lines for the log, secrets masked. */
    public Map<String, String> describe() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("kafka.bootstrap", bootstrap);
        out.put("model.dir", modelDir);
        out.put("model.backend", backend);
        if (!gpuIndexes.isEmpty()) out.put("executor.gpu.indexes", gpuIndexes.toString());
        out.put("executors", Integer.toString(numExecutors));
        out.put("schedule.file", scheduleFile == null ? "(none: " + manualSchedule + ")" : scheduleFile.toString());
        out.put("delivery", exactlyOnce ? "exactly-once" : "at-least-once");
        out.put("admission.mode", admission.text());
        if (!stepLogDir.isEmpty()) out.put("executor.step.log.dir", stepLogDir);
        if (maxInFlight > 0) out.put("executor.max.in.flight", Integer.toString(maxInFlight));
        out.put("control", !control.enabled() ? "off (control.enabled=false)" : control.profile().isEmpty()
                ? "off (no control.profile: the profile the schedule was planned on)" : "on, profile " + control.profile());
        out.put("task.slo.ms", taskSloLatencyMs.toString());
        KafkaClients.describe(kafkaClient).forEach((key, value) -> out.put("kafka.client." + key, value));
        return out;
    }

    /** Typed reads with messages that name the key, the value and the expectation. */
    private record Keys(Properties p) {
        String string(String key, String fallback) {
            String v = p.getProperty(key);
            return v == null || v.isBlank() ? fallback : v.trim();
        }

        String required(String key, String what) {
            String v = p.getProperty(key);
            if (v == null || v.isBlank()) {
                throw new IllegalArgumentException(key + " is not set: expected " + what);
            }
            return v.trim();
        }

        String oneOf(String key, String fallback, List<String> allowed) {
            String v = string(key, fallback).toLowerCase();
            if (!allowed.contains(v)) {
                throw new IllegalArgumentException(key + "=" + v + ": expected one of " + allowed);
            }
            return v;
        }

        int integer(String key, int fallback, int min, int max) {
            return (int) longValue(key, fallback, min, max);
        }

        long longValue(String key, long fallback, long min, long max) {
            String v = p.getProperty(key);
            if (v == null || v.isBlank()) {
                return fallback;
            }
            long parsed;
            try {
                parsed = Long.parseLong(v.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(key + "=" + v.trim() + ": expected an integer in " + min + ".." + max);
            }
            if (parsed < min || parsed > max) {
                throw new IllegalArgumentException(key + "=" + parsed + ": expected an integer in " + min + ".." + max);
            }
            return parsed;
        }
    }
}
