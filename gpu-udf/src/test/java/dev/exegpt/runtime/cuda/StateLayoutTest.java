package dev.exegpt.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.SequenceState;
import dev.exegpt.runtime.weights.ModelSize;
import org.junit.jupiter.api.Test;

/** The device layout of a sequence's state holds exactly what the engine's admission charges. */
class StateLayoutTest {

    @Test
    void optStateIsTheSelfCacheOnly() {
        ModelConfig c = ModelSize.SMALL.config(Architecture.OPT);
        StateLayout s = StateLayout.of(c, 40, 0);
        assertEquals(SequenceState.numBytes(c.numDecoderLayers(), c.innerDim(), 40, 0, c.dModel()), s.numBytes());
        assertEquals(2L * 40 * c.innerDim(), s.selfKeys(1));
        assertEquals(40L * c.innerDim(), s.selfValues(0));
    }

    @Test
    void t5StateAddsEncoderOutputAndCrossCache() {
        ModelConfig c = ModelSize.TINY.config(Architecture.T5);
        StateLayout s = StateLayout.of(c, 7, 13);
        assertEquals(SequenceState.numBytes(c.numDecoderLayers(), c.innerDim(), 7, 13, c.dModel()), s.numBytes());
        long self = 2L * c.numDecoderLayers() * 7 * c.innerDim();
        assertEquals(self, s.encoderOutput());
        assertEquals(self + 13L * c.dModel(), s.crossKeys(0));
        assertEquals(s.crossKeys(0) + 13L * c.innerDim(), s.crossValues(0));
        assertEquals(s.crossKeys(0) + s.crossLayerStride(), s.crossKeys(1));
    }
}
