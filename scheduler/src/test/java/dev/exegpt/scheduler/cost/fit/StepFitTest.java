package dev.exegpt.scheduler.cost.fit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

import dev.exegpt.scheduler.cost.DeviceSpec;
import dev.exegpt.scheduler.cost.ModelSpec;
import dev.exegpt.scheduler.cost.ModelSpecs;
import dev.exegpt.scheduler.cost.Phase;
import dev.exegpt.scheduler.cost.RooflineCostModel;
import dev.exegpt.scheduler.sim.Pipeline;

/** Measured engine steps beside the cost model's price for each, as the event simulator prices them. */
class StepFitTest {

    private static final ModelSpec T5 = ModelSpecs.byName("t5-11b");
    private static final Pipeline ONE_DEVICE = Pipeline.build(new RooflineCostModel(T5, DeviceSpec.A100_80GB), 1, 1, 0,
            T5.numEncoderLayers(), T5.numDecoderLayers(), 8, 0, 256);

    @Test
    void anEncodeIsPricedAtTheMeanOverItsOwnPromptLengthsAndADecodeAtItsMeanContext() {
        MeasuredStep encode = new MeasuredStep(Phase.ENCODE, 0, 10, new int[] {100, 300}, 400);
        double expected = (ONE_DEVICE.passMs(Phase.ENCODE, 2, 100) + ONE_DEVICE.passMs(Phase.ENCODE, 2, 300)) / 2;
        assertEquals(expected, StepFit.predictedMs(encode, ONE_DEVICE), 1e-9);
        MeasuredStep decode = new MeasuredStep(Phase.DECODE, 10, 15, new int[] {100, 300, 200}, 630);
        assertEquals(ONE_DEVICE.decodeIterationMs(3, 210, 3), StepFit.predictedMs(decode, ONE_DEVICE), 1e-9);
    }

    @Test
    void theFitShouldSplitTheRunIntoEncodeDecodeAndTheTimeOutsideSteps() {
        MeasuredStep e = new MeasuredStep(Phase.ENCODE, 0, 0, new int[] {128}, 128);
        MeasuredStep d = new MeasuredStep(Phase.DECODE, 0, 0, new int[] {128}, 129);
        double pe = StepFit.predictedMs(e, ONE_DEVICE);
        double pd = StepFit.predictedMs(d, ONE_DEVICE);
        // An encode at 2x its price, a 1 ms gap, the first decode (with the encode: T5's cross keys and values) at
        // 2x, two decodes at 1.5x and 0.5x theirs, a 2 ms gap, one more at 1x.
        double t = 0;
        MeasuredStep e1 = new MeasuredStep(Phase.ENCODE, t, t += 2 * pe, new int[] {128}, 128);
        t += 1;
        MeasuredStep d0 = new MeasuredStep(Phase.DECODE, t, t += 2 * pd, new int[] {128}, 129);
        MeasuredStep d1 = new MeasuredStep(Phase.DECODE, t, t += 1.5 * pd, new int[] {128}, 129);
        MeasuredStep d2 = new MeasuredStep(Phase.DECODE, t, t += 0.5 * pd, new int[] {128}, 129);
        t += 2;
        MeasuredStep d3 = new MeasuredStep(Phase.DECODE, t, t += pd, new int[] {128}, 129);
        StepFit f = StepFit.of(List.of(e1, d0, d1, d2, d3), ONE_DEVICE);
        assertEquals(1, f.numEncodes());
        assertEquals(3, f.numDecodes());
        assertEquals(2.0, f.encodeRatio(), 1e-9);
        assertEquals(2.0, f.medianEncodeRatio(), 1e-9);
        assertEquals(2 * (pe + pd), f.measuredEncodeMs(), 1e-9);
        assertEquals(1.0, f.decodeRatio(), 1e-9);
        assertEquals(1.0, f.medianDecodeRatio(), 1e-9);
        assertEquals(3.0, f.outsideStepsMs(), 1e-9);
        assertEquals(2.0, f.encodeFactor(), 1e-9);
        assertEquals(1.0, f.decodeFactor(), 1e-9);
        // A fit is held within [0.5, 3], and without steps of a phase leaves it alone.
        StepFit slow = StepFit.of(List.of(new MeasuredStep(Phase.ENCODE, 0, 10 * pe, new int[] {128}, 128)), ONE_DEVICE);
        assertEquals(3.0, slow.encodeFactor(), 1e-9);
        assertEquals(1.0, slow.decodeFactor(), 1e-9);
        assertEquals(t, f.spanMs(), 1e-9);
    }
}
