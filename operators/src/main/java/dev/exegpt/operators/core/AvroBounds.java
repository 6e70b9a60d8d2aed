package dev.exegpt.operators.core;

import org.apache.avro.Schema;

/**
 * Walks Avro binary against its schema without allocating anything, before a decoder is trusted with it: every
 * declared length (string, bytes, block of an array or map) must fit in the bytes that remain, every union branch
 * and enum symbol must exist, and no collection may declare more items than {@code maxItemsPerCollection}. Avro's
 * own reader sizes its arrays from the declared count, so a record of a few dozen bytes that declares a billion
 * items would make it allocate gigabytes; here it is a one-line reason instead.
 *
 * <p>Pure and stateless; the walk is linear in the bytes (an item takes at least one byte, except items of a
 * zero-byte schema such as {@code null}, which the collection cap bounds).
 */
public final class AvroBounds {

    /** Items a single array or map may declare unless the caller says otherwise. */
    public static final int DEFAULT_MAX_ITEMS_PER_COLLECTION = 1 << 16;

    private final Schema schema;
    private final int maxItemsPerCollection;

    public AvroBounds(Schema schema, int maxItemsPerCollection) {
        if (maxItemsPerCollection < 1) {
            throw new IllegalArgumentException("maxItemsPerCollection must be >= 1, got " + maxItemsPerCollection);
        }
        this.schema = schema;
        this.maxItemsPerCollection = maxItemsPerCollection;
    }

    /** Why {@code bytes} cannot be a record of the schema within the bounds, or null when the walk found nothing wrong. */
    public String check(byte[] bytes) {
        Walk walk = new Walk(bytes);
        try {
            walk.value(schema, schema.getName());
        } catch (OutOfBounds e) {
            return e.getMessage();
        }
        return null;
    }

    /** How every reason for bytes that run out begins (truncated input, or a length no input could back). */
    static final String END = "the bytes end inside the record (truncated, or a corrupt length): ";

    private static final class OutOfBounds extends Exception {
        OutOfBounds(String message) {
            super(message, null, false, false);
        }
    }

    private final class Walk {
        private final byte[] bytes;
        private int pos;

        Walk(byte[] bytes) {
            this.bytes = bytes;
        }

        private int remaining() {
            return bytes.length - pos;
        }

        void value(Schema s, String path) throws OutOfBounds {
            switch (s.getType()) {
                case NULL -> { }
                case BOOLEAN -> skip(1, path);
                case INT, LONG -> varLong(path);
                case FLOAT -> skip(4, path);
                case DOUBLE -> skip(8, path);
                case STRING, BYTES -> {
                    long length = varLong(path);
                    if (length < 0 || length > remaining()) {
                        throw new OutOfBounds(END + path + " declares " + length + " bytes but " + remaining() + " remain");
                    }
                    pos += (int) length;
                }
                case FIXED -> skip(s.getFixedSize(), path);
                case ENUM -> {
                    long index = varLong(path);
                    if (index < 0 || index >= s.getEnumSymbols().size()) {
                        throw new OutOfBounds(path + " has enum index " + index + ": expected 0.." + (s.getEnumSymbols().size() - 1));
                    }
                }
                case UNION -> {
                    long index = varLong(path);
                    if (index < 0 || index >= s.getTypes().size()) {
                        throw new OutOfBounds(path + " has union branch " + index + ": expected 0.." + (s.getTypes().size() - 1));
                    }
                    value(s.getTypes().get((int) index), path);
                }
                case RECORD -> {
                    for (Schema.Field f : s.getFields()) {
                        value(f.schema(), path + "." + f.name());
                    }
                }
                case ARRAY -> collection(s.getElementType(), null, path);
                case MAP -> collection(s.getValueType(), Schema.create(Schema.Type.STRING), path);
            }
        }

        /** Blocks of items (a map's items are a string key and a value) until a block of count 0. */
        private void collection(Schema item, Schema key, String path) throws OutOfBounds {
            long total = 0;
            while (true) {
                long count = varLong(path);
                if (count == 0) {
                    return;
                }
                if (count < 0) {                          // a negative count is followed by the block's size in bytes
                    count = -count;
                    long size = varLong(path);
                    if (size < 0 || size > remaining()) {
                        throw new OutOfBounds(END + path + " declares a block of " + size + " bytes but " + remaining() + " remain");
                    }
                }
                if (count < 0 || count > maxItemsPerCollection - total) {
                    throw new OutOfBounds(path + " declares " + (count < 0 ? "an overflowing number of" : String.valueOf(total + count))
                            + " items: expected at most " + maxItemsPerCollection);
                }
                total += count;
                if (key != null || minBytes(item) > 0) {
                    if (count > remaining()) {
                        throw new OutOfBounds(END + path + " declares " + count + " items but " + remaining() + " bytes remain");
                    }
                }
                for (long i = 0; i < count; i++) {
                    if (key != null) {
                        value(key, path + "{key}");
                    }
                    value(item, path + "[" + i + "]");
                }
            }
        }

        private void skip(int n, String path) throws OutOfBounds {
            if (n > remaining()) {
                throw new OutOfBounds(END + path + " needs " + n + " bytes but " + remaining() + " remain");
            }
            pos += n;
        }

        /** Avro's zig-zag variable-length long; at most 10 bytes. */
        private long varLong(String path) throws OutOfBounds {
            long raw = 0;
            for (int shift = 0; shift < 70; shift += 7) {
                if (pos >= bytes.length) {
                    throw new OutOfBounds(END + path + " is cut off inside a number");
                }
                int b = bytes[pos++] & 0xff;
                raw |= (long) (b & 0x7f) << shift;
                if ((b & 0x80) == 0) {
                    return (raw >>> 1) ^ -(raw & 1);
                }
            }
            throw new OutOfBounds(path + ": a number longer than 10 bytes");
        }
    }

    /** The fewest bytes a value of {@code s} takes: 0 for null, empty records and unions that may be null. */
    static int minBytes(Schema s) {
        return switch (s.getType()) {
            case NULL -> 0;
            case FIXED -> s.getFixedSize();
            case FLOAT -> 4;
            case DOUBLE -> 8;
            case RECORD -> {
                int sum = 0;
                for (Schema.Field f : s.getFields()) {
                    sum += minBytes(f.schema());
                    if (sum > 0) {
                        break;
                    }
                }
                yield sum;
            }
            default -> 1;            // a number, a length, a block count or a union index takes at least one byte
        };
    }
}
