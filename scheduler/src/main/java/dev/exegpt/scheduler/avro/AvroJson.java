package dev.exegpt.scheduler.avro;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.avro.Schema;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.io.JsonEncoder;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/** Avro JSON encoding of a specific record, to and from files (the format of profile.json and schedule.json). */
final class AvroJson {
    private AvroJson() {}

    static <T extends SpecificRecord> String write(T record) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            JsonEncoder enc = EncoderFactory.get().jsonEncoder(record.getSchema(), out, true);
            @SuppressWarnings("unchecked")
            SpecificDatumWriter<T> w = new SpecificDatumWriter<>((Class<T>) record.getClass());
            w.write(record, enc);
            enc.flush();
            return out.toString(StandardCharsets.UTF_8) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode " + record.getSchema().getName(), e);
        }
    }

    static <T extends SpecificRecord> T read(String json, Class<T> type, Schema schema, String origin) {
        try {
            SpecificDatumReader<T> r = new SpecificDatumReader<>(type);
            return r.read(null, DecoderFactory.get().jsonDecoder(schema, json));
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("%s: not an Avro JSON %s: %s".formatted(origin, schema.getName(), e.getMessage()));
        }
    }

    static String readFile(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read %s: %s".formatted(file, e.getMessage()));
        }
    }
}
