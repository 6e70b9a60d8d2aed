package dev.exegpt.runtime.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.weights.CheckpointWriter;
import dev.exegpt.runtime.weights.ModelSize;
import dev.exegpt.schemas.Profile;
import dev.exegpt.schemas.ProfileEntry;
import dev.exegpt.schemas.ProfileOperation;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.junit.jupiter.api.Test;

/** XProfiler on a tiny T5 with a small grid: every operation measured for TP 1 and 2, written as Avro JSON. */
class XProfilerTest {

    @Test
    void profilesBothLayersAndCommunicationAndWritesAvroJson() throws Exception {
        Path dir = Path.of("target", "fixtures", "profile-t5-tiny");
        CheckpointWriter.writeRandom(dir, ModelSize.TINY.config(Architecture.T5), 3);
        ProfileGrid grid = new ProfileGrid(List.of(1, 2), List.of(1, 2), List.of(8, 16), 64, List.of(1, 4),
                List.of(8), 1, 3, 200);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        XProfiler profiler = new XProfiler(dir, grid, new PrintStream(log, true), new PrintStream(new ByteArrayOutputStream()));
        Profile p = profiler.run();
        long compute = p.getEntries().stream().filter(e -> e.getOperation() == ProfileOperation.ATTENTION
                || e.getOperation() == ProfileOperation.LAYER || e.getOperation() == ProfileOperation.NON_ATTENTION).count();
        assertEquals(2 * compute, profiler.numPlannedMeasurements(), "the progress total: each compute entry, and its second pass");
        Path out = Path.of("target", "fixtures", "profile-t5-tiny.json");
        XProfiler.write(p, out);
        Profile back;
        try (InputStream in = Files.newInputStream(out)) {
            back = new SpecificDatumReader<>(Profile.class)
                    .read(null, DecoderFactory.get().jsonDecoder(Profile.getClassSchema(), in));
        }
        assertEquals(p, back);
        assertEquals("t5", back.getArchitecture());
        Set<ProfileOperation> ops = back.getEntries().stream().map(ProfileEntry::getOperation).collect(Collectors.toSet());
        assertEquals(Set.of(ProfileOperation.ATTENTION, ProfileOperation.NON_ATTENTION, ProfileOperation.LAYER,
                ProfileOperation.ALL_REDUCE, ProfileOperation.PIPELINE_SEND, ProfileOperation.STATE_TRANSFER,
                ProfileOperation.HEAD), ops);
        // The head: once per step, one entry per row count of the grid (decode batches and encode batches), tp 1.
        List<Integer> headRows = back.getEntries().stream().filter(e -> e.getOperation() == ProfileOperation.HEAD)
                .map(ProfileEntry::getBatchSize).sorted().toList();
        assertEquals(List.of(1, 2, 4), headRows);
        assertTrue(back.getEntries().stream().filter(e -> e.getOperation() == ProfileOperation.HEAD)
                .allMatch(e -> e.getTpDegree() == 1 && e.getNumTokens() == e.getBatchSize()));
        assertTrue(log.toString().contains("[xprofiler] DECODE HEAD"), log.toString());
        assertTrue(back.getEntries().stream().anyMatch(e -> e.getTpDegree() == 2 && e.getOperation() == ProfileOperation.LAYER));
        for (ProfileEntry e : back.getEntries()) assertTrue(e.getMedianMs() > 0, "positive time: " + e);
        assertTrue(back.getWeightBytesPerDecoderLayer() > back.getWeightBytesPerEncoderLayer());
        assertTrue(log.toString().contains("[xprofiler] ENCODE ATTENTION"), log.toString());
    }

    @Test
    void profilesALlamaWithItsKvHeadsAndTheGridBeyondItsPositions() throws Exception {
        Path dir = Path.of("target", "fixtures", "profile-llama-tiny");
        ModelConfig c = ModelSize.TINY.config(Architecture.LLAMA);             // 4 heads over 2 KV heads, 128 positions
        CheckpointWriter.writeRandom(dir, c, 3);
        ProfileGrid grid = new ProfileGrid(List.of(1, 2), List.of(1, 2), List.of(8, 16), 64, List.of(1, 4),
                List.of(8, 200), 1, 3, 200);
        Profile p = new XProfiler(dir, grid, new PrintStream(new ByteArrayOutputStream(), true)).run();
        assertEquals("llama", p.getArchitecture());
        assertEquals(0, p.getNumEncoderLayers());
        assertEquals(128, p.getMaxPositions());
        assertEquals(2L * c.kvDim() * Float.BYTES, p.getKvBytesPerTokenPerLayer());
        assertTrue(c.kvDim() < c.innerDim(), "grouped-query attention");
        assertTrue(p.getEntries().stream().anyMatch(e -> e.getPhase() == dev.exegpt.schemas.ProfilePhase.DECODE
                && e.getSeqLength() == 200 && e.getOperation() == ProfileOperation.LAYER), "decode at 200 keys");
        for (ProfileEntry e : p.getEntries()) assertTrue(e.getMedianMs() > 0, "positive time: " + e);
    }
}
