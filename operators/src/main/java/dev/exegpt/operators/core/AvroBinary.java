package dev.exegpt.operators.core;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * Plain Avro binary for Kafka values: the bytes of one record of a known schema, with no registry framing. One
 * instance per thread: it reuses its buffer, encoder and decoder.
 */
public final class AvroBinary<T extends SpecificRecord> {

    private final SpecificDatumWriter<T> writer;
    private final SpecificDatumReader<T> reader;
    private final AvroBounds bounds;
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(4096);
    private BinaryEncoder encoder;
    private BinaryDecoder decoder;

    public AvroBinary(Schema schema) {
        this(schema, AvroBounds.DEFAULT_MAX_ITEMS_PER_COLLECTION);
    }

    /** @param maxItemsPerCollection the most items one array or map of a decoded record may declare */
    public AvroBinary(Schema schema, int maxItemsPerCollection) {
        this.writer = new SpecificDatumWriter<>(schema);
        this.reader = new SpecificDatumReader<>(schema);
        this.bounds = new AvroBounds(schema, maxItemsPerCollection);
    }

    public byte[] encode(T record) {
        buffer.reset();
        encoder = EncoderFactory.get().binaryEncoder(buffer, encoder);
        try {
            writer.write(record, encoder);
            encoder.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("could not encode " + record.getSchema().getName(), e);
        }
        return buffer.toByteArray();
    }

    /**
     * Decodes one record; throws {@link IOException} for bytes that are not a record of this schema. The bytes are
     * first walked against the schema ({@link AvroBounds}), so a declared length or item count that the bytes cannot
     * hold is refused before Avro allocates for it.
     */
    public T decode(byte[] bytes) throws IOException {
        String outOfBounds = bounds.check(bytes);
        if (outOfBounds != null) {
            throw new IOException("not a valid " + reader.getSchema().getName() + ": " + outOfBounds);
        }
        decoder = DecoderFactory.get().binaryDecoder(bytes, decoder);
        T record;
        try {
            record = reader.read(null, decoder);
        } catch (java.io.EOFException e) {
            throw new IOException("not a valid " + reader.getSchema().getName() + ": the bytes end inside the record (truncated?)", e);
        } catch (RuntimeException e) {
            // Avro reports some corrupt input as runtime exceptions (negative lengths, bad union index).
            throw new IOException("not a valid " + reader.getSchema().getName() + ": " + e.getMessage(), e);
        }
        if (!decoder.isEnd()) {
            throw new IOException("not a valid " + reader.getSchema().getName() + ": trailing bytes after the record");
        }
        return record;
    }
}
