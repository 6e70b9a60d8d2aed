package dev.exegpt.job.pipeline;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.avro.Schema;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.io.JsonEncoder;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/** Avro's JSON encoding of one record per line. */
public final class JsonLines {
    private final SpecificDatumWriter<SpecificRecord> writer;
    private final Schema schema;
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();

    public JsonLines(Schema schema) {
        this.schema = schema;
        this.writer = new SpecificDatumWriter<>(schema);
    }

    /** Writes {@code records} to {@code file}, one line each (the file is replaced). */
    public static void write(java.nio.file.Path file, Schema schema, Iterable<? extends SpecificRecord> records) throws IOException {
        JsonLines lines = new JsonLines(schema);
        try (java.io.BufferedWriter w = java.nio.file.Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (SpecificRecord r : records) {
                w.write(lines.encode(r));
                w.newLine();
            }
        }
    }

    public String encode(SpecificRecord record) throws IOException {
        buffer.reset();
        JsonEncoder encoder = EncoderFactory.get().jsonEncoder(schema, buffer, false);
        writer.write(record, encoder);
        encoder.flush();
        return buffer.toString(StandardCharsets.UTF_8);
    }
}
