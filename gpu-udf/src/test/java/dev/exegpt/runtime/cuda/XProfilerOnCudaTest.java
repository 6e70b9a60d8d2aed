package dev.exegpt.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.exegpt.runtime.engine.Backend;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.profile.CudaDevices;
import dev.exegpt.runtime.profile.ProfileGrid;
import dev.exegpt.runtime.profile.XProfiler;
import dev.exegpt.runtime.weights.CheckpointWriter;
import dev.exegpt.runtime.weights.ModelSize;
import dev.exegpt.schemas.Profile;
import dev.exegpt.schemas.ProfileEntry;
import dev.exegpt.schemas.ProfileOperation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * exegpt profile --backend cuda: XProfiler over the CUDA backend's ops, every family, every kind of entry measured on
 * the GPU (skips without one; the refusal of TP degrees above 1 is checked everywhere).
 */
class XProfilerOnCudaTest {
    static final ProfileGrid GRID = new ProfileGrid(List.of(1), List.of(1, 4), List.of(16, 64), 256, List.of(1, 8),
            List.of(16, 64), 1, 3, 500);

    @Test
    void refusesTensorParallelDegrees() throws Exception {
        Path dir = Path.of("target", "fixtures", "cuda-profile-tp");
        CheckpointWriter.writeRandom(dir, ModelSize.TINY.config(Architecture.OPT), 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new XProfiler(dir, GRID.withTpDegrees(List.of(1, 2)), System.out).run(Backend.CUDA, 0));
        assertTrue(e.getMessage().contains("one GPU"), e.getMessage());
    }

    /**
     * The CUDA profile path (layer 0 and the head over CudaOps, device states per workload, hand-offs, the engine of
     * the state transfer and the calibration) for every family over {@link HostGpu}: every kind of entry at TP 1.
     * The times are the fake's and mean nothing; that the path runs end to end is the point.
     */
    @Test
    void profilesEveryFamilyOverTheHostGpu() throws Exception {
        ProfileGrid grid = new ProfileGrid(List.of(1), List.of(1, 2), List.of(8), 64, List.of(1, 2), List.of(8), 0, 1, 0);
        for (Architecture arch : Architecture.values()) {
            Path dir = Path.of("target", "fixtures", "host-gpu-profile-" + arch);
            ModelConfig c = ModelSize.TINY.config(arch);
            CheckpointWriter.writeRandom(dir, c, 1);
            Profile p = new XProfiler(dir, grid, new java.io.PrintStream(new java.io.ByteArrayOutputStream(), true))
                    .run(new CudaDevices(c, () -> new CudaOps(c, new HostGpu()), 16L << 20));
            assertEquals("cuda", p.getBackend());
            Set<ProfileOperation> ops = EnumSet.noneOf(ProfileOperation.class);
            for (ProfileEntry e : p.getEntries()) {
                ops.add(e.getOperation());
                assertEquals(1, e.getTpDegree());
            }
            assertEquals(EnumSet.of(ProfileOperation.ATTENTION, ProfileOperation.LAYER, ProfileOperation.NON_ATTENTION,
                    ProfileOperation.HEAD, ProfileOperation.STATE_TRANSFER, ProfileOperation.PIPELINE_SEND), ops, arch.name());
        }
    }

    @Test
    void profilesEveryFamily() throws Exception {
        CudaProbe.Result r = CudaProbe.probe();
        assumeTrue(r.available(), "no CUDA device (" + r.reason() + "); the CPU profiler is covered by XProfilerTest");
        for (Architecture arch : Architecture.values()) {
            Path dir = Path.of("target", "fixtures", "cuda-profile-" + arch);
            CheckpointWriter.writeRandom(dir, ModelSize.TINY.config(arch), 1);
            Profile p = new XProfiler(dir, GRID, System.out).run(Backend.CUDA, 0);
            assertEquals("cuda", p.getBackend());
            Set<ProfileOperation> ops = EnumSet.noneOf(ProfileOperation.class);
            for (ProfileEntry e : p.getEntries()) {
                ops.add(e.getOperation());
                assertEquals(1, e.getTpDegree());
                assertTrue(e.getMedianMs() > 0 && e.getMinMs() <= e.getMedianMs() && e.getMedianMs() <= e.getMaxMs(), e.toString());
            }
            assertEquals(EnumSet.of(ProfileOperation.ATTENTION, ProfileOperation.LAYER, ProfileOperation.NON_ATTENTION,
                    ProfileOperation.HEAD, ProfileOperation.STATE_TRANSFER, ProfileOperation.PIPELINE_SEND), ops);
            Path out = Path.of("target", "profiles", "cuda-" + arch + ".json");
            XProfiler.write(p, out);
            assertTrue(Files.readString(out).matches("(?s).*\"backend\"\\s*:\\s*\"cuda\".*"), "written as Avro JSON");
        }
    }
}
