package dev.exegpt.operators.runner;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An executor's step log line reads back as the step it was written from; a line that is not one says so. */
class EngineStepCsvTest {

    @Test
    void aStepShouldReadBackFromItsLine() {
        EngineStep s = new EngineStep(EngineStep.Kind.DECODE, 1795568731263.125, 1795568731275.5, new int[] {511, 3, 40}, 580);
        String line = EngineStepCsv.line(s);
        assertEquals("DECODE,1795568731263.125,1795568731275.500,580,511 3 40", line);
        EngineStep back = EngineStepCsv.parse(line);
        assertEquals(s.kind(), back.kind());
        assertEquals(s.startEpochMs(), back.startEpochMs(), 1e-3);
        assertEquals(s.durationMs(), back.durationMs(), 1e-3);
        assertEquals(580, back.numContextTokens());
        assertArrayEquals(new int[] {511, 3, 40}, back.inputTokens());
    }

    @Test
    void aLineThatIsNotAStepShouldSaySo() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EngineStepCsv.parse(EngineStepCsv.HEADER));
        assertTrue(e.getMessage().contains("not an engine step line") && e.getMessage().contains("'kind,start_epoch_ms"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> EngineStepCsv.parse("ENCODE,1,2,3"));
    }

    @Test
    void theLayoutLineAndTheHeaderShouldNotBeReadAsSteps() {
        assertTrue(EngineStepCsv.isNotAStep(EngineStepCsv.layoutLine("RRA[1, 1]")));
        assertTrue(EngineStepCsv.isNotAStep(EngineStepCsv.HEADER));
        assertTrue(EngineStepCsv.isNotAStep(" "));
        assertFalse(EngineStepCsv.isNotAStep(EngineStepCsv.line(new EngineStep(EngineStep.Kind.DECODE, 1, 2, new int[] {3}, 4))));
    }

    @Test
    void theStepsOfAWindowAreReadFromEveryLogInTheFolder(@TempDir Path dir) throws Exception {
        EngineStep early = new EngineStep(EngineStep.Kind.ENCODE, 90, 105, new int[] {7}, 0);
        EngineStep inside = new EngineStep(EngineStep.Kind.DECODE, 110, 112, new int[] {7, 9}, 16);
        EngineStep straddling = new EngineStep(EngineStep.Kind.DECODE, 195, 205, new int[] {7}, 9);
        EngineStep other = new EngineStep(EngineStep.Kind.ENCODE, 150, 160, new int[] {3, 4}, 0);
        Files.write(dir.resolve("executor-0.csv"), List.of(EngineStepCsv.layoutLine("RRA[1, 1]"), EngineStepCsv.HEADER,
                EngineStepCsv.line(early), EngineStepCsv.line(inside), EngineStepCsv.line(straddling)));
        Files.write(dir.resolve("executor-1.csv"), List.of(EngineStepCsv.HEADER, EngineStepCsv.line(other), ""));
        Files.writeString(dir.resolve("notes.txt"), "not a step log");
        List<EngineStep> read = EngineStepCsv.read(dir, 100, 200);
        assertEquals(List.of(EngineStep.Kind.DECODE, EngineStep.Kind.ENCODE), read.stream().map(EngineStep::kind).toList());
        assertEquals(110, read.get(0).startEpochMs(), 1e-9);
        assertArrayEquals(new int[] {3, 4}, read.get(1).inputTokens());
    }
}
