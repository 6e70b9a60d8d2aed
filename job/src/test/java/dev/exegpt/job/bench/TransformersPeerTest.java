package dev.exegpt.job.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transformers peer's batch rule and its skip reasons: where its script or Python is missing, or the Python
 * lacks torch, the arm is skipped with one line that names the cause and the fix.
 */
class TransformersPeerTest {

    @Test
    void bestBatchIsTheMostRequestsPerSecondWithinTheSloAndBatchOneWhenNoneMeetsIt() {
        List<TransformersPeer.SweepPoint> sweep = List.of(new TransformersPeer.SweepPoint(1, 900, 1.1),
                new TransformersPeer.SweepPoint(2, 1200, 1.7), new TransformersPeer.SweepPoint(4, 1900, 2.1),
                new TransformersPeer.SweepPoint(8, 3100, 2.6));
        assertEquals(4, TransformersPeer.bestBatch(sweep, 2000));
        assertEquals(8, TransformersPeer.bestBatch(sweep, Double.POSITIVE_INFINITY));
        assertEquals(1, TransformersPeer.bestBatch(sweep, 500));
        // Not the largest batch within the SLO, the fastest one: here B=2 serves more than B=4.
        List<TransformersPeer.SweepPoint> dip = List.of(new TransformersPeer.SweepPoint(2, 1000, 2.0),
                new TransformersPeer.SweepPoint(4, 1500, 1.9));
        assertEquals(2, TransformersPeer.bestBatch(dip, 2000));
    }

    @Test
    void sweptBatchesArePowersOfTwoUpToARoundAndSixtyFour() {
        assertEquals(List.of(1, 2, 4, 8, 16), TransformersPeer.sweptBatches(24));
        assertEquals(List.of(1, 2, 4, 8, 16, 32, 64), TransformersPeer.sweptBatches(500));
        assertEquals(List.of(1), TransformersPeer.sweptBatches(1));
    }

    @Test
    void offOrAMissingScriptOrVenvIsSkippedWithOneLine(@TempDir Path empty) throws Exception {
        assertEquals("--transformers off", TransformersPeer.probe("off", empty).skipReason());
        String noScript = TransformersPeer.probe("auto", empty).skipReason();
        assertTrue(noScript.startsWith(TransformersPeer.SCRIPT + " not found"), noScript);

        Path home = repositoryWithScriptOnly(empty);
        if (System.getenv("EXEGPT_HF_PYTHON") == null) {
            TransformersPeer.Probe noVenv = TransformersPeer.probe("auto", home);
            assertFalse(noVenv.found());
            assertEquals("no Python with torch and transformers at " + home.resolve(TransformersPeer.VENV_PYTHON) + "; "
                    + TransformersPeer.SETUP, noVenv.skipReason());
        }
    }

    @Test
    void aPythonWithoutTorchIsSkippedWithTheImportError(@TempDir Path dir) throws Exception {
        // A virtual environment with no packages: what a machine without the wheels has.
        Path bare = dir.resolve("bare-venv");
        Process p = new ProcessBuilder("python3", "-m", "venv", "--without-pip", bare.toString()).inheritIO().start();
        assertEquals(0, p.waitFor());
        Path python = bare.resolve("bin").resolve("python");
        TransformersPeer.Probe probe = TransformersPeer.probe(python.toString(), repositoryWithScriptOnly(dir));
        assertFalse(probe.found());
        assertEquals(python + " cannot import torch and transformers (ModuleNotFoundError: No module named 'torch'); "
                + TransformersPeer.SETUP, probe.skipReason());
        assertFalse(probe.skipReason().contains("\n"));
    }

    /** A folder with the real script (copied from this repository) and no virtual environment. */
    private static Path repositoryWithScriptOnly(Path dir) throws Exception {
        Path home = dir.resolve("repo");
        Path script = home.resolve(TransformersPeer.SCRIPT);
        Files.createDirectories(script.getParent());
        Files.copy(TransformersPeer.home().resolve(TransformersPeer.SCRIPT), script);
        return home;
    }
}
