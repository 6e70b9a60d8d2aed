package dev.exegpt.runtime.weights;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes the safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length, a JSON header mapping each tensor name to {dtype, shape, data_offsets}, then the raw little-endian
 * data. Reads F32, F16 and BF16 (widened to f32); writes any of the three.
 */
public final class Safetensors {
    private static final long MAX_HEADER_BYTES = 100L << 20;

    private Safetensors() {}

    /** Reads every tensor of the file in header order, each in its stored width (see {@link Tensor}). */
    public static Map<String, Tensor> read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer lenBuf = readFully(ch, 0, 8, file);
            long headerLen = lenBuf.order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES || 8 + headerLen > ch.size()) {
                throw new IOException(file + ": header length " + headerLen + " is not a safetensors header");
            }
            String headerText = StandardCharsets.UTF_8.decode(readFully(ch, 8, (int) headerLen, file)).toString();
            Map<String, Object> header = Json.parseObject(headerText);
            long dataStart = 8 + headerLen;
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, Object> e : header.entrySet()) {
                if (e.getKey().equals("__metadata__")) continue;
                tensors.put(e.getKey(), readTensor(ch, file, e.getKey(), e.getValue(), dataStart));
            }
            return tensors;
        }
    }

    @SuppressWarnings("unchecked")
    private static Tensor readTensor(FileChannel ch, Path file, String name, Object entry, long dataStart)
            throws IOException {
        Map<String, Object> info = (Map<String, Object>) entry;
        String dtypeName = (String) info.get("dtype");
        DType dtype;
        try {
            dtype = DType.valueOf(dtypeName);
        } catch (IllegalArgumentException | NullPointerException ex) {
            throw new IOException(file + ": tensor " + name + " has dtype " + dtypeName + "; expected F32, F16 or BF16");
        }
        List<Object> shapeList = (List<Object>) info.get("shape");
        List<Object> offsets = (List<Object>) info.get("data_offsets");
        int[] shape = new int[shapeList.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = ((Number) shapeList.get(i)).intValue();
            count *= shape[i];
        }
        if (shape.length == 0) shape = new int[] {1};
        long begin = ((Number) offsets.get(0)).longValue();
        long end = ((Number) offsets.get(1)).longValue();
        if (end - begin != count * dtype.numBytes()) {
            throw new IOException(file + ": tensor " + name + " spans " + (end - begin) + " bytes; shape and dtype need "
                    + count * dtype.numBytes());
        }
        if (count > Integer.MAX_VALUE - 8) throw new IOException(file + ": tensor " + name + " is too large: " + count);
        ByteBuffer buf = readFully(ch, dataStart + begin, (int) (end - begin), file).order(ByteOrder.LITTLE_ENDIAN);
        if (dtype == DType.F32) {
            float[] data = new float[(int) count];
            buf.asFloatBuffer().get(data);
            return new Tensor(name, shape, data);
        }
        short[] bits = new short[(int) count];
        buf.asShortBuffer().get(bits);
        return Tensor.of16(name, shape, dtype, bits);
    }

    private static ByteBuffer readFully(FileChannel ch, long position, int len, Path file) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(len);
        while (buf.hasRemaining()) {
            int n = ch.read(buf, position + buf.position());
            if (n < 0) throw new IOException(file + ": truncated at byte " + (position + buf.position()));
        }
        return buf.flip();
    }

    /** Writes the tensors, in the given order, as one safetensors file with every tensor stored as dtype. */
    public static void write(Path file, List<Tensor> tensors, DType dtype) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("__metadata__", Map.of("format", "pt"));
        long offset = 0;
        for (Tensor t : tensors) {
            long numBytes = (long) t.numElements() * dtype.numBytes();
            List<Object> shape = new ArrayList<>();
            for (int d : t.shape()) shape.add(d);
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", dtype.name());
            info.put("shape", shape);
            info.put("data_offsets", List.of(offset, offset + numBytes));
            header.put(t.name(), info);
            offset += numBytes;
        }
        byte[] headerBytes = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (headerBytes.length + 7) / 8 * 8;           // data aligned to 8 bytes, padded with spaces
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(padded).put(headerBytes);
            while (head.hasRemaining()) head.put((byte) ' ');
            writeFully(ch, head.flip());
            for (Tensor t : tensors) writeFully(ch, encode(t, dtype));
        }
    }

    /** The tensor's values as dtype, little-endian; a 16-bit tensor written as its own type is copied bit for bit. */
    private static ByteBuffer encode(Tensor t, DType dtype) {
        ByteBuffer buf = ByteBuffer.allocate(t.numElements() * dtype.numBytes()).order(ByteOrder.LITTLE_ENDIAN);
        if (dtype == DType.F32) buf.asFloatBuffer().put(t.data());
        else buf.asShortBuffer().put(t.narrowedTo(dtype).bits());
        buf.position(0);
        return buf;
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }
}
