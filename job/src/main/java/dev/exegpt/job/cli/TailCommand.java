package dev.exegpt.job.cli;

import dev.exegpt.job.pipeline.JsonLines;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import dev.exegpt.job.cli.CliErrors.UserError;
import dev.exegpt.operators.core.AvroBinary;
import dev.exegpt.job.kafka.KafkaClients;
import dev.exegpt.job.kafka.Topics;

/** {@code exegpt tail}: print the records of an exegpt topic as JSON lines. */
@Command(name = "tail", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Print the records of an exegpt topic as JSON lines (Avro's JSON encoding of the topic's schema),",
                "from the beginning (or only new ones with --from latest), until --max records or Ctrl-C."})
final class TailCommand implements Callable<Integer> {

    @Mixin KafkaClientOptions kafkaClient;

    @Option(names = "--bootstrap", description = "Kafka bootstrap servers. Default: EXEGPT_BOOTSTRAP or ${DEFAULT-VALUE}.")
    String bootstrap = KafkaClients.DEFAULT_BOOTSTRAP;

    @Option(names = "--topic", defaultValue = Topics.RESULTS, description = "Topic to read. Default: ${DEFAULT-VALUE}.")
    String topic;

    @Option(names = "--max", description = "Stop after this many records (default: follow until Ctrl-C).")
    Long max;

    @Option(names = "--from", defaultValue = "earliest", description = "earliest or latest. Default: ${DEFAULT-VALUE}.")
    String from;

    @Option(names = "--idle-timeout-s", description = "Stop when no record arrives for this many seconds (default: never).")
    Double idleTimeoutSeconds;

    @Override
    public Integer call() throws IOException {
        if (max != null && max < 1) {
            throw new UserError("--max " + max + ": must be >= 1", CliErrors.EXIT_USAGE);
        }
        if (!from.equals("earliest") && !from.equals("latest")) {
            throw new UserError("--from " + from + ": expected earliest or latest", CliErrors.EXIT_USAGE);
        }
        Schema schema;
        try {
            schema = Topics.valueSchema(topic);
        } catch (IllegalArgumentException e) {
            throw new UserError("--topic " + e.getMessage(), CliErrors.EXIT_USAGE);
        }
        try {
            KafkaClients.checkReachable(bootstrap, topic, 5_000, kafkaClient.properties());
        } catch (IllegalStateException e) {
            throw new UserError(e.getMessage());
        }
        var props = KafkaClients.consumer(bootstrap, "exegpt-tail-" + UUID.randomUUID(), kafkaClient.properties());
        props.put("auto.offset.reset", from);
        long printed = 0;
        long idleLimitMs = idleTimeoutSeconds == null ? Long.MAX_VALUE : (long) (idleTimeoutSeconds * 1000);
        long lastRecordMs = System.currentTimeMillis();
        PrintStream out = System.out;
        AvroBinary<SpecificRecord> codec = new AvroBinary<>(schema);
        JsonLines json = new JsonLines(schema);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
            consumer.subscribe(List.of(topic));
            while (max == null || printed < max) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
                if (records.isEmpty()) {
                    if (System.currentTimeMillis() - lastRecordMs > idleLimitMs) {
                        break;
                    }
                    continue;
                }
                lastRecordMs = System.currentTimeMillis();
                for (ConsumerRecord<byte[], byte[]> record : records) {
                    out.println(toJson(codec, json, record));
                    printed++;
                    if (max != null && printed >= max) {
                        break;
                    }
                }
                out.flush();
            }
        }
        return 0;
    }

    private static String toJson(AvroBinary<SpecificRecord> codec, JsonLines json, ConsumerRecord<byte[], byte[]> record) {
        try {
            return json.encode(codec.decode(record.value()));
        } catch (IOException | RuntimeException e) {
            // Never stop on a bad record: show where it is and why it does not decode.
            return String.format("{\"undecodable\": {\"partition\": %d, \"offset\": %d, \"reason\": \"%s\"}}",
                    record.partition(), record.offset(), e.getMessage().replace("\\", "\\\\").replace("\"", "\\\""));
        }
    }
}
