package dev.exegpt.operators.runner;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

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
}
