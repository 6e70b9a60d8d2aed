package dev.exegpt.job.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import dev.exegpt.job.cli.CliErrors.UserError;
import dev.exegpt.job.kafka.RequestSource;
import dev.exegpt.job.kafka.TaskRequests;
import dev.exegpt.job.kafka.KafkaClients;
import dev.exegpt.job.pipeline.RequestJson;
import dev.exegpt.job.kafka.RequestSender;
import dev.exegpt.job.kafka.RequestSender.Arrival;
import dev.exegpt.job.kafka.RequestSender.Progress;
import dev.exegpt.job.kafka.RequestSender.Report;
import dev.exegpt.job.kafka.Topics;
import dev.exegpt.schemas.InferenceRequest;

/** {@code exegpt send}: produce Avro InferenceRequests from a JSON-lines file or sampled from a task. */
@Command(name = "send", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Produce Avro InferenceRequests to Kafka, from a JSON-lines file or sampled from a task's length",
                "distribution (synthetic prompt text of the sampled length), open-loop Poisson at --rate or as fast as",
                "possible (--bulk, the default). Prints progress and the achieved rate."})
final class SendCommand implements Callable<Integer> {

    @Mixin KafkaClientOptions kafkaClient;

    @Option(names = "--bootstrap", description = "Kafka bootstrap servers. Default: EXEGPT_BOOTSTRAP or ${DEFAULT-VALUE}.")
    String bootstrap = KafkaClients.DEFAULT_BOOTSTRAP;

    @Option(names = "--topic", defaultValue = Topics.REQUESTS, description = "Topic to produce to. Default: ${DEFAULT-VALUE}.")
    String topic;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = "--file", required = true, description = "JSON-lines file, one request object per line (fields as in InferenceRequest.avsc).")
        Path file;

        @ArgGroup(exclusive = false)
        Sampled sampled;
    }

    static final class Sampled {
        @Option(names = "--task", required = true, description = "Task whose length distribution to sample (S, T, G, C1, C2, conversation, code, humaneval, arxiv, cnn_dailymail, wmt).")
        String task;

        @Option(names = "--count", required = true, description = "Number of requests to sample.")
        long count;
    }

    @ArgGroup(exclusive = true)
    Pace pace = new Pace();

    static final class Pace {
        @Option(names = "--rate", description = "Open-loop Poisson arrivals at this many requests/s.")
        Double rate;

        @Option(names = "--bulk", description = "As fast as possible (the default).")
        boolean bulk;
    }

    @Option(names = "--seed", defaultValue = "42", description = "Seed for sampling lengths, prompts and arrival gaps. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--slo-ms", description = "Per-request end-to-end SLO, ms, set on sampled requests (default: none, the task's SLO applies).")
    Long sloMs;

    @Option(names = "--honor-eos", description = "Sampled requests stop at EOS instead of producing exactly the sampled output length.")
    boolean honorEos;

    @Option(names = "--compression", defaultValue = "lz4",
            description = "Producer compression: none, gzip, snappy, lz4 or zstd. Default: ${DEFAULT-VALUE}.")
    String compression;

    @Option(names = "--out", paramLabel = "FILE", description = {"Write the requests to FILE as JSON lines (the format of --file and",
            "of 'run --input') instead of producing them to Kafka: a task's sample for batch mode."})
    Path outFile;

    @Option(names = "--max-prompt-tokens", description = "Cap sampled prompt lengths, e.g. at the model's positions (default: no cap).")
    Integer maxPromptTokens;

    @Override
    public Integer call() throws IOException {
        PrintStream out = System.out;
        Arrival arrival = pace.rate == null ? Arrival.bulk() : arrivalAt(pace.rate);
        if (!java.util.List.of("none", "gzip", "snappy", "lz4", "zstd").contains(compression)) {
            throw new UserError("--compression " + compression + ": expected none, gzip, snappy, lz4 or zstd", CliErrors.EXIT_USAGE);
        }
        if (outFile != null) {
            if (pace.rate != null) {
                throw new UserError("--rate " + pace.rate + ": --out writes a file, there is no pace to keep; leave out --rate",
                        CliErrors.EXIT_USAGE);
            }
            return writeFile(out);
        }
        try {
            KafkaClients.checkReachable(bootstrap, topic, 5_000, kafkaClient.properties());
        } catch (IllegalStateException e) {
            throw new UserError(e.getMessage());
        }
        RequestSource requests = openSource();
        String what = source.file != null ? source.file.toString() : "task " + source.sampled.task;
        out.printf("sending %s to %s at %s (%s)%n", requests.describeCount(), topic, bootstrap,
                arrival.isBulk() ? "bulk" : String.format("Poisson, %.1f requests/s", arrival.requestsPerSecond()));
        Report report;
        try (requests) {
            report = new RequestSender(KafkaClients.producer(bootstrap, "exegpt-send", compression, kafkaClient.properties()), topic)
                    .send(requests, arrival, p -> printProgress(out, p, requests.expectedCount()));
        } catch (IllegalStateException e) {
            throw new UserError(e.getMessage());
        }
        out.printf("sent %,d requests from %s to %s in %.2f s: %,.0f requests/s acknowledged%n", report.numSent(), what,
                topic, report.elapsedNanos() / 1e9, report.requestsPerSecond());
        if (requests.numSkipped() > 0) {
            System.err.printf("send: %,d malformed lines of %s were skipped (listed above)%n", requests.numSkipped(), what);
            return CliErrors.EXIT_FAILURE;
        }
        return 0;
    }

    /** The requests as JSON lines into --out (written to a sibling file first, then moved: no half file is left). */
    private int writeFile(PrintStream out) throws IOException {
        RequestSource requests = openSource();
        Path target = outFile.toAbsolutePath();
        if (target.getParent() != null) Files.createDirectories(target.getParent());
        Path partial = target.resolveSibling(target.getFileName() + ".partial");
        long n = 0;
        try (requests; java.io.BufferedWriter w = Files.newBufferedWriter(partial, StandardCharsets.UTF_8)) {
            while (requests.hasNext()) {
                w.write(RequestJson.format(requests.next()));
                w.newLine();
                n++;
            }
        }
        Files.move(partial, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        out.printf("wrote %,d requests from %s to %s%n", n, source.file != null ? source.file : "task " + source.sampled.task, outFile);
        if (requests.numSkipped() > 0) {
            System.err.printf("send: %,d malformed lines of %s were skipped (listed above)%n", requests.numSkipped(), source.file);
            return CliErrors.EXIT_FAILURE;
        }
        return 0;
    }

    private Arrival arrivalAt(double rate) {
        if (!(rate > 0) || Double.isInfinite(rate)) {
            throw new UserError("--rate " + rate + ": must be a positive number of requests/s (or use --bulk)", CliErrors.EXIT_USAGE);
        }
        return new Arrival(rate, seed);
    }

    private RequestSource openSource() throws IOException {
        if (source.file != null) {
            try {
                return new FileSource(source.file);
            } catch (NoSuchFileException e) {
                throw new UserError("--file " + source.file + ": no such file", CliErrors.EXIT_USAGE);
            }
        }
        if (source.sampled.count < 1) {
            throw new UserError("--count " + source.sampled.count + ": must be >= 1", CliErrors.EXIT_USAGE);
        }
        if (maxPromptTokens != null && maxPromptTokens < 1) {
            throw new UserError("--max-prompt-tokens " + maxPromptTokens + ": must be >= 1", CliErrors.EXIT_USAGE);
        }
        try {
            return TaskRequests.open(source.sampled.task, source.sampled.count, seed, sloMs, !honorEos, maxPromptTokens);
        } catch (IllegalArgumentException e) {
            throw new UserError("--task " + e.getMessage(), CliErrors.EXIT_USAGE);
        }
    }

    private static void printProgress(PrintStream out, Progress p, long total) {
        double seconds = p.elapsedNanos() / 1e9;
        String of = total > 0 ? String.format("/%,d (%.0f%%)", total, 100.0 * p.numQueued() / total) : "";
        out.printf("  %,d%s queued, %,d acknowledged, %.1f s, %,.0f requests/s%n", p.numQueued(), of, p.numAcked(), seconds,
                seconds == 0 ? 0 : p.numAcked() / seconds);
    }

    /** A JSON-lines file, read line by line; a malformed line is reported with its number and skipped. */
    static final class FileSource implements RequestSource {
        private final Path file;
        private final BufferedReader reader;
        private InferenceRequest next;
        private long lineNumber;
        private long skipped;

        FileSource(Path file) throws IOException {
            this.file = file;
            this.reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
            advance();
        }

        private void advance() {
            next = null;
            try {
                for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                    lineNumber++;
                    if (line.isBlank()) {
                        continue;
                    }
                    try {
                        next = RequestJson.parse(line);
                        return;
                    } catch (IllegalArgumentException e) {
                        skipped++;
                        System.err.printf("send: %s:%d: %s (line skipped)%n", file, lineNumber, e.getMessage());
                    }
                }
            } catch (IOException e) {
                throw new UserError("--file " + file + ": read failed at line " + lineNumber + ": " + e.getMessage());
            }
        }

        @Override
        public boolean hasNext() {
            return next != null;
        }

        @Override
        public InferenceRequest next() {
            if (next == null) {
                throw new NoSuchElementException();
            }
            InferenceRequest current = next;
            advance();
            return current;
        }

        @Override
        public long expectedCount() {
            return 0;
        }

        @Override
        public long numSkipped() {
            return skipped;
        }

        @Override
        public void close() {
            try {
                reader.close();
            } catch (IOException ignored) {
                // Read-only file; nothing to recover.
            }
        }
    }
}
