package dev.exegpt.runtime.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PTX of the runtime's kernels: {@code src/main/cuda/exegpt_kernels.cu}, compiled by nvcc during the build into
 * the class-path resource {@link #RESOURCE} (absent where the build had no nvcc), and the entry points the Java side
 * launches ({@link #ENTRIES}).
 */
public final class Ptx {
    private Ptx() {}

    /** Class-path resource of the compiled kernels. */
    public static final String RESOURCE = "/dev/exegpt/runtime/cuda/exegpt_kernels.ptx";

    /** Every kernel the CUDA backend loads by name; each must be an {@code .entry} of the PTX. */
    public static final List<String> ENTRIES = List.of(
            "matmul_f32", "matmul_f32_large", "matmul_skinny", "matmul_f16", "matmul_bf16", "convert_f32_f16", "convert_f32_bf16",
            "layer_norm", "rms_norm", "relu", "gelu", "gelu_mul", "silu", "silu_mul", "mul", "scale", "rope", "add", "softmax_rows",
            "embedding", "gather_rows", "argmax_rows", "write_kv", "attention");

    private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+([A-Za-z_$][A-Za-z0-9_$]*)\\s*\\(");

    /** The PTX text, or null when the build had no nvcc. */
    public static String load() {
        try (InputStream in = Ptx.class.getResourceAsStream(RESOURCE)) {
            return in == null ? null : new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalStateException(RESOURCE + ": cannot be read: " + e.getMessage(), e);
        }
    }

    /** Names of the kernel entry points ({@code .visible .entry name(}) in a PTX text, in order. */
    public static Set<String> entries(String ptx) {
        Set<String> names = new LinkedHashSet<>();
        Matcher m = ENTRY.matcher(ptx);
        while (m.find()) names.add(m.group(1));
        return names;
    }

    /** The PTX ISA version ({@code .version 9.0} gives "9.0"), or "unknown". */
    public static String version(String ptx) {
        Matcher m = Pattern.compile("(?m)^\\s*\\.version\\s+(\\d+\\.\\d+)").matcher(ptx);
        return m.find() ? m.group(1) : "unknown";
    }

    /** The entries the Java side needs that the PTX lacks (empty when it is complete). */
    public static List<String> missing(String ptx) {
        Set<String> have = entries(ptx);
        return ENTRIES.stream().filter(e -> !have.contains(e)).toList();
    }
}
