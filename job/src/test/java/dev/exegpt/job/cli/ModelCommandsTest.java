package dev.exegpt.job.cli;

import dev.exegpt.runtime.cuda.CudaProbe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** exegpt model init, generate and profile end to end on a tiny checkpoint written into target/. */
class ModelCommandsTest {

    private static String run(int expectedExit, String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (PrintStream capture = new PrintStream(buf, true)) {
            System.setOut(capture);
            System.setErr(capture);
            assertEquals(expectedExit, Exegpt.run(args), () -> String.join(" ", args) + ":\n" + buf);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return buf.toString();
    }

    @Test
    void initGenerateAndProfileATinyModel() throws Exception {
        Path dir = Path.of("target", "cli-models", "opt-tiny");
        String init = run(0, "model", "init", "--arch", "opt", "--size", "tiny", "--seed", "3", "--out", dir.toString());
        assertTrue(init.contains("opt tiny"), init);
        assertTrue(Files.isRegularFile(dir.resolve("model.safetensors")));
        String gen = run(0, "generate", "--model", dir.toString(), "--prompt", "Hello world", "--max-new-tokens", "5",
                "--ignore-eos", "--tp", "2");
        assertTrue(gen.contains("prompt tokens: [2, 15496, 995]") && gen.contains("output tokens: [") && gen.contains("output text:"), gen);
        if (!CudaProbe.probe().available()) {                   // CI: no GPU; CudaEngineTest covers a machine with one
            String cuda = run(1, "generate", "--model", dir.toString(), "--prompt", "x", "--backend", "cuda");
            assertTrue(cuda.contains("backend cuda: no usable CUDA device: "), cuda);
        }
        Path profile = Path.of("target", "cli-models", "opt-tiny-profile.json");
        String prof = run(0, "profile", "--model", dir.toString(), "--tp", "1", "--repeats", "1", "--warmups", "0",
                "--out", profile.toString());
        assertTrue(prof.contains("[xprofiler] DECODE ATTENTION") && Files.readString(profile).contains("\"entries\""), prof);
        String missing = run(1, "generate", "--model", "target/cli-models/none", "--prompt", "x");
        assertTrue(missing.contains("expected a directory with config.json"), missing);
    }

    @Test
    void initGenerateAndProfileATinyLlama() throws Exception {
        Path dir = Path.of("target", "cli-models", "llama-tiny");
        String init = run(0, "model", "init", "--arch", "llama", "--size", "tiny", "--seed", "3", "--out", dir.toString());
        assertTrue(init.contains("llama tiny"), init);
        for (String f : new String[] {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"}) {
            assertTrue(Files.isRegularFile(dir.resolve(f)), f);
        }
        assertTrue(Files.readString(dir.resolve("config.json")).contains("\"num_key_value_heads\": 2"));
        String gen = run(0, "generate", "--model", dir.toString(), "--prompt", "Hello world", "--max-new-tokens", "5",
                "--ignore-eos", "--tp", "2");
        // Llama prompts begin with BOS, here GPT-2's <|endoftext|>; TP 2 splits the 2 KV heads
        assertTrue(gen.contains("(llama, backend cpu, tp 2)") && gen.contains("prompt tokens: [50256, 15496, 995]"), gen);
        Path profile = Path.of("target", "cli-models", "llama-tiny-profile.json");
        String prof = run(0, "profile", "--model", dir.toString(), "--tp", "1", "--repeats", "1", "--warmups", "0",
                "--out", profile.toString());
        assertTrue(prof.contains("[xprofiler] DECODE ATTENTION") && Files.readString(profile).contains("\"llama\""), prof);
    }
}
