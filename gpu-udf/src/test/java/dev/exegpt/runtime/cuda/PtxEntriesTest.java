package dev.exegpt.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The PTX the build made holds every kernel the Java side launches (runs without a GPU). */
class PtxEntriesTest {

    @Test
    void parsesEntryNamesFromPtxText() {
        String ptx = """
                .version 9.0
                .target sm_80
                .visible .entry matmul_f32(
                \t.param .u64 matmul_f32_param_0
                )
                .func (.param .b32 func_retval0) block_sum(
                .visible .entry attention (
                """;
        assertEquals(List.of("matmul_f32", "attention"), List.copyOf(Ptx.entries(ptx)));
        assertTrue(Ptx.missing(ptx).contains("layer_norm"));
        assertEquals("9.0", Ptx.version(ptx));
        assertEquals("unknown", Ptx.version("no header"));
    }

    @Test
    void builtPtxHasEveryEntryTheJavaSideLoads() {
        String ptx = Ptx.load();
        assumeTrue(ptx != null, "no PTX in target/classes: nvcc was absent when gpu-udf was built"
                + " (src/main/cuda/build-ptx.sh said so); the kernels' CPU counterparts are covered by KernelsTest");
        assertEquals(List.of(), Ptx.missing(ptx), "entries the Java side loads but the PTX lacks");
        assertTrue(ptx.contains(".target sm_80"), "PTX for compute_80 (tensor cores, and JIT-compiled on newer GPUs)");
    }

    /** Every launch("name", ...) in the sources names an entry of Ptx.ENTRIES, so no launch can miss its kernel. */
    @Test
    void everyLaunchedKernelIsAListedEntry() throws IOException {
        // literal launches, and the kernel names chosen by code (LaunchGeometry.matmulKernel, the benchmark)
        Pattern launch = Pattern.compile("launch\\(\\s*\"([a-z_0-9]+)\"|\"((?:matmul|convert)_[a-z_0-9]+)\"");
        Set<String> launched = new TreeSet<>();
        Path dir = Path.of("src", "main", "java", "dev", "exegpt", "runtime", "cuda");
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Matcher m = launch.matcher(Files.readString(f));
                while (m.find()) launched.add(m.group(1) != null ? m.group(1) : m.group(2));
            }
        }
        assertTrue(launched.size() >= 10, "found the launches: " + launched);
        for (String k : launched) assertTrue(Ptx.ENTRIES.contains(k), k + " is launched but not in Ptx.ENTRIES");
    }

    /** The .cu source declares every listed entry extern "C" (its PTX name is then the plain name). */
    @Test
    void sourceDeclaresEveryEntryExternC() throws IOException {
        String cu = Files.readString(Path.of("src", "main", "cuda", "exegpt_kernels.cu"));
        for (String e : Ptx.ENTRIES) {
            assertTrue(Pattern.compile("extern \"C\" __global__ void " + e + "\\(").matcher(cu).find(),
                    e + ": no extern \"C\" __global__ definition in exegpt_kernels.cu");
        }
    }
}
