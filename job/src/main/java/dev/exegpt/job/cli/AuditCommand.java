package dev.exegpt.job.cli;

import dev.exegpt.job.report.AuditSummary;
import dev.exegpt.job.report.FigureTable;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import dev.exegpt.job.cli.CliErrors.UserError;
import dev.exegpt.job.kafka.KafkaClients;
import dev.exegpt.job.kafka.Topics;
import dev.exegpt.job.report.Arrivals;
import dev.exegpt.job.report.AuditReportInput;
import dev.exegpt.job.report.HtmlReport;
import dev.exegpt.job.report.ReportInput;
import dev.exegpt.job.report.RunFigures;
import dev.exegpt.operators.core.AuditReport;
import dev.exegpt.operators.core.AvroBinary;
import dev.exegpt.job.report.ScheduleChange;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Schedule;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;

/** {@code exegpt audit}: the SLO audit of results from a results file or the results topic. */
@Command(name = "audit", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"SLO audit of results: attainment and latency per task, per schedule version and per hour, and the",
                "slowest requests with the stage that spent their time (queue, encode, decode); every latency names its",
                "clock (from arrival, from encode start) and --arrival picks the verdict's; --html adds the charts."})
final class AuditCommand implements Callable<Integer> {

    @Mixin KafkaClientOptions kafkaClient;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = "--input", required = true, description = "Results file from 'exegpt run --output' (Avro JSON lines).")
        Path input;

        @Option(names = "--bootstrap", required = true, description = "Read the results topic of this Kafka broker instead.")
        String bootstrap;
    }

    @Option(names = "--topic", defaultValue = Topics.RESULTS, description = "Results topic. Default: ${DEFAULT-VALUE}.")
    String topic;

    @Option(names = "--idle-timeout-s", defaultValue = "5", description = "With --bootstrap: stop reading after this many idle seconds. Default: ${DEFAULT-VALUE}.")
    double idleTimeoutSeconds;

    @Option(names = "--slowest", defaultValue = "10", description = "How many of the slowest requests to list. Default: ${DEFAULT-VALUE}.")
    int numSlowest;

    @Option(names = "--arrival", defaultValue = "open", paramLabel = "open|bulk",
            description = {"How the requests arrived, which makes one clock's SLO attainment the verdict: open (as they came,",
                    "Poisson or live traffic: from arrival) or bulk (all of a round at once, as 'exegpt bench --arrival bulk'",
                    "sends them: from encode start, the paper's clock). Both clocks are shown. Default: ${DEFAULT-VALUE}."})
    String arrival;

    @Option(names = "--schedules", paramLabel = "FILE", description = {"With --input: the control loop's schedule versions",
            "(Avro JSON lines of Schedule, as 'exegpt demo' keeps them), marked with their reasons on the report's timeline."})
    Path schedulesFile;

    @Option(names = "--schedules-topic", defaultValue = Topics.SCHEDULES,
            description = "With --bootstrap: the schedules topic whose control-loop versions the report marks. Default: ${DEFAULT-VALUE}.")
    String schedulesTopic;

    @Option(names = "--html", paramLabel = "FILE", description = {"Also write the audit as one self-contained HTML page:",
            "latency CDF, SLO attainment and batch sizes over time and the execution timeline, per schedule version."})
    Path html;

    @Override
    public Integer call() throws IOException {
        if (numSlowest < 0) {
            throw new UserError("--slowest " + numSlowest + ": must be >= 0", CliErrors.EXIT_USAGE);
        }
        if (html != null && Files.isDirectory(html)) {
            throw new UserError("--html " + html + ": is a directory; expected the report's file name, e.g. audit.html",
                    CliErrors.EXIT_USAGE);
        }
        Arrivals arrivals = switch (arrival) {
            case "open" -> Arrivals.OPEN;
            case "bulk" -> Arrivals.BULK;
            default -> throw new UserError("--arrival " + arrival + ": expected open or bulk", CliErrors.EXIT_USAGE);
        };
        if (schedulesFile != null && source.input == null) {
            throw new UserError("--schedules " + schedulesFile + ": only with --input; with --bootstrap the schedules come from"
                    + " --schedules-topic", CliErrors.EXIT_USAGE);
        }
        List<InferenceResult> results = source.input != null ? readFile(source.input)
                : readTopic(topic, InferenceResult.getClassSchema());
        PrintStream out = System.out;
        if (results.isEmpty()) {
            out.println(html != null ? "audit: no results; no report written" : "audit: no results");
            return 0;
        }
        AuditReport report = new AuditReport(results);
        AuditSummary.print(out, RunFigures.of(results), arrivals);
        table(out, "by task", report.byTask(), arrivals);
        table(out, "by schedule", report.bySchedule(), arrivals);
        List<ScheduleChange> changes = new ArrayList<>();
        List<Schedule> schedules;
        if (source.input != null) {
            schedules = readSchedules();
        } else {
            try {
                schedules = this.<Schedule>readTopic(schedulesTopic, Schedule.getClassSchema());
            } catch (UserError e) {                      // a deployment without the topic: the audit stands without it
                out.printf("%n(no schedule versions: %s)%n", e.getMessage());
                schedules = List.of();
            }
        }
        for (Schedule s : schedules) {
            ScheduleChange.of(s).ifPresent(changes::add);
        }
        if (!changes.isEmpty()) {
            out.printf("%nthe control loop's schedule versions, with their reasons:%n");
            changes.forEach(c -> out.println("  " + c.describe()));
        }
        table(out, "by hour (UTC)", report.byHour(), arrivals);
        out.printf("%nslowest %d requests:%n%-28s %-14s %15s %-7s %9s %9s %9s %7s%n", Math.min(numSlowest, results.size()),
                "request", "task", "ms from arrival", "stage", "queue", "encode", "decode", "tokens");
        for (AuditReport.Slow s : report.slowest(numSlowest)) {
            out.printf("%-28s %-14s %15.0f %-7s %9.0f %9.0f %9.0f %7d%n", s.requestId(), s.task(), s.endToEndMs(),
                    s.dominantStage(), s.queueMs(), s.encodeMs(), s.decodeMs(), s.numOutputTokens());
        }
        if (html != null) {
            String from = source.input != null ? source.input.toString() : topic + " on " + source.bootstrap;
            HtmlReport.write(html, AuditReportInput.of("SLO audit of " + from, results, numSlowest, arrivals).withChanges(changes));
            out.printf("%nreport: %s%n", html.toAbsolutePath());
        }
        return 0;
    }

    private static void table(PrintStream out, String what, List<AuditReport.Group> groups, Arrivals arrivals) {
        ReportInput.Table t = AuditReportInput.groups(what, what, groups, arrivals);
        out.println();
        FigureTable.print(out, t.header(), t.cells());
    }

    private static List<InferenceResult> readFile(Path file) throws IOException {
        return readLines(file, "--input", InferenceResult.getClassSchema());
    }

    private List<Schedule> readSchedules() throws IOException {
        return schedulesFile == null ? List.of() : readLines(schedulesFile, "--schedules", Schedule.getClassSchema());
    }

    /** Avro JSON lines of {@code schema}'s records; a line that is not one is a one-line error naming file and line. */
    private static <T extends SpecificRecord> List<T> readLines(Path file, String option, Schema schema) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new UserError(option + " " + file + ": no such file", CliErrors.EXIT_USAGE);
        }
        SpecificDatumReader<T> reader = new SpecificDatumReader<>(schema);
        List<T> records = new ArrayList<>();
        try (BufferedReader lines = Files.newBufferedReader(file)) {
            int n = 0;
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                n++;
                if (line.isBlank()) {
                    continue;
                }
                try {
                    records.add(reader.read(null, DecoderFactory.get().jsonDecoder(schema, line)));
                } catch (IOException | RuntimeException e) {
                    throw new UserError(option + " " + file + ":" + n + ": not a " + schema.getName() + " in Avro JSON (" + e.getMessage() + ")");
                }
            }
        }
        return records;
    }

    private <T extends SpecificRecord> List<T> readTopic(String name, Schema schema) throws IOException {
        try {
            KafkaClients.checkReachable(source.bootstrap, name, 5_000, kafkaClient.properties());
        } catch (IllegalStateException e) {
            throw new UserError(e.getMessage());
        }
        AvroBinary<T> codec = new AvroBinary<>(schema);
        List<T> records = new ArrayList<>();
        long idleMs = (long) (idleTimeoutSeconds * 1000);
        try (KafkaConsumer<byte[], byte[]> consumer =
                     new KafkaConsumer<>(KafkaClients.consumer(source.bootstrap, "exegpt-audit-" + UUID.randomUUID(),
                             kafkaClient.properties()))) {
            consumer.subscribe(List.of(name));
            long last = System.currentTimeMillis();
            while (System.currentTimeMillis() - last < idleMs) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    last = System.currentTimeMillis();
                    try {
                        records.add(codec.decode(record.value()));
                    } catch (IOException e) {
                        System.err.printf("audit: skipping %s-%d@%d: %s%n", record.topic(), record.partition(), record.offset(), e.getMessage());
                    }
                }
            }
        }
        return records;
    }
}
