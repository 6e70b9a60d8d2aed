package dev.exegpt.runtime.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.tokenizer.BpeTokenizer;
import dev.exegpt.runtime.weights.CheckpointWriter;
import dev.exegpt.runtime.weights.Json;
import dev.exegpt.runtime.weights.ModelSize;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checkpoints cross between transformers and this engine both ways, through python/hf_interop.py: transformers'
 * save_pretrained output (BF16, sharded at 100 KB) gives in our engine the logits transformers gives, and a directory
 * CheckpointWriter writes (what {@code exegpt model init} writes) loads in transformers with from_pretrained, model
 * and tokenizer, with our ids and our logits. Needs a Python with torch and transformers: gpu-udf/python/.venv (made by
 * python/setup-venv.sh from the wheels on this machine kind) or EXEGPT_HF_PYTHON; without one it is reported as
 * skipped with that reason. CheckpointFormatsTest and ProjectTokenizerTest cover the Java side without Python.
 */
class HfInteropTest {
    private static final Path OUT = Path.of("target", "hf-interop");
    private static final int NUM_STEPS = 3;
    /** f32 on both sides from the same BF16 (or f32) values; only the order of summation differs. */
    private static final double MAX_ABS_DIFF = 2e-3;
    private static String python;

    @BeforeAll
    static void findPython() {
        String env = System.getenv("EXEGPT_HF_PYTHON");
        Path venv = Path.of("python", ".venv", "bin", "python");
        python = env != null && !env.isBlank() ? env : Files.isExecutable(venv) ? venv.toString() : null;
        Assumptions.assumeTrue(python != null, "HfInteropTest: no Python with torch + transformers; run "
                + "gpu-udf/python/setup-venv.sh or set EXEGPT_HF_PYTHON (the Java-only checks still ran)");
    }

    @Test
    void shouldGiveTransformersLogitsForItsShardedBf16Checkpoints() throws Exception {
        run(python, "python/hf_interop.py", "save", OUT.toString());
        for (String name : List.of("hf-t5", "hf-opt")) {
            Path dir = OUT.resolve(name);
            assertTrue(Files.isRegularFile(dir.resolve("model.safetensors.index.json")), name + " is sharded");
            Map<String, Object> ref = Json.parseObject(Files.readString(dir.resolve("reference.json")));
            compare(name, dir, ints(ref.get("input_ids")), ref);
        }
    }

    @Test
    void shouldLoadModelInitCheckpointsInTransformersWithOurIdsAndLogits() throws Exception {
        String text = "The quick brown fox jumps over the lazy dog.";
        for (Architecture arch : Architecture.values()) {
            Path dir = OUT.resolve("exegpt-" + arch.name().toLowerCase());
            CheckpointWriter.writeRandom(dir, ModelSize.TINY.config(arch), 42);
            run(python, "python/hf_interop.py", "check", dir.toString(), text);
            Map<String, Object> hf = Json.parseObject(Files.readString(dir.resolve("transformers.json")));
            int[] ids;
            try (BpeTokenizer tokenizer = BpeTokenizer.load(dir)) {
                ids = tokenizer.encode(text);
                assertEquals(hf.get("decoded"), tokenizer.decode(ids), arch + " decoded text");
            }
            assertArrayEquals(ints(hf.get("input_ids")), ids, arch + ": transformers' tokenizer ids");
            compare("exegpt-" + arch, dir, ids, hf);
        }
    }

    @SuppressWarnings("unchecked")
    private static void compare(String name, Path dir, int[] promptIds, Map<String, Object> hf) throws IOException {
        List<float[]> ours = greedyLogits(dir, promptIds);
        List<Object> steps = (List<Object>) hf.get("steps");
        double maxDiff = 0;
        for (int step = 0; step < NUM_STEPS; step++) {
            Map<String, Object> s = (Map<String, Object>) steps.get(step);
            List<Object> want = (List<Object>) s.get("logits");
            float[] got = ours.get(step);
            assertEquals(want.size(), got.length, name + " vocabulary");
            int argmax = 0;
            for (int i = 0; i < got.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(((Number) want.get(i)).doubleValue() - got[i]));
                if (got[i] > got[argmax]) argmax = i;
            }
            assertEquals(((Number) s.get("token")).intValue(), argmax, name + " greedy token of step " + step);
        }
        System.out.printf("HfInteropTest %s: %d greedy steps, logits max abs diff vs transformers %.3g%n", name, NUM_STEPS,
                maxDiff);
        assertTrue(maxDiff < MAX_ABS_DIFF, name + ": logits max abs diff " + maxDiff);
    }

    /** The last position's logits of encode (OPT) and the decode steps, until NUM_STEPS, greedy, on the CPU. */
    private static List<float[]> greedyLogits(Path dir, int[] promptIds) throws IOException {
        List<float[]> logits = new ArrayList<>();
        try (Engine engine = Engine.load(dir, EngineConfig.DEFAULTS.withBackend(Backend.CPU).withKeepLogits(true))) {
            Sequence s = engine.encode(List.of(new GenerationRequest("interop", promptIds, NUM_STEPS, true)))
                    .admitted().get(0);
            if (s.numGenerated() == 1) logits.add(s.lastLogits().clone());
            while (logits.size() < NUM_STEPS) {
                engine.decode(List.of(s));
                logits.add(s.lastLogits().clone());
            }
            engine.release(s);
        }
        return logits;
    }

    private static int[] ints(Object list) {
        return ((List<?>) list).stream().mapToInt(o -> ((Number) o).intValue()).toArray();
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        int rc = p.waitFor();
        assertEquals(0, rc, String.join(" ", command) + " failed:\n" + output);
    }
}
