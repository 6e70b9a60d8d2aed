package dev.exegpt.operators.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dev.exegpt.operators.core.ValidRequest;
import dev.exegpt.schemas.InferenceRequest;

/** Admission control's prediction and verdict, with step times given by hand. */
class AdmissionTest {

    private static final long ARRIVED = 1_700_000_000_000L;

    private static ValidRequest request(int maxNew, boolean ignoreEos, long sloMs, Long deadline, int estimated) {
        InferenceRequest r = InferenceRequest.newBuilder().setRequestId("a").setTask("S").setPromptText("x")
                .setMaxNewTokens(maxNew).setIgnoreEos(ignoreEos).setDeadlineEpochMs(deadline).build();
        return new ValidRequest(r, new int[] {1, 2, 3}, ARRIVED, sloMs, estimated);
    }

    @Test
    void shouldRefuseARequestThatWouldFinishPastItsSloAndAdmitOneThatFits() {
        Admission admission = new Admission(Admission.Mode.REJECT_LATE, 1);
        admission.observeEncode(40);
        admission.observeDecode(10, 4);
        ValidRequest r = request(21, true, 1_000, null, 0);                 // service = 40 + 20 x 10 = 240 ms
        assertEquals(240, admission.predictedServiceMs(r, 4), 1e-9);
        assertNull(admission.refusal(r, ARRIVED + 760, 4), "finishes at 1000 ms: exactly on time");
        String why = admission.refusal(r, ARRIVED + 761, 4);
        assertNotNull(why, "finishes at 1001 ms, past the 1000 ms SLO");
        assertTrue(why.contains("predicted finish 1001 ms after arrival") && why.contains("deadline 1000 ms after arrival")
                && why.contains("at decode batch 4"), why);
        assertEquals(1, admission.numRefused());
    }

    @Test
    void theIterationAfterAnAdmissionShouldBeChargedToEachEncodeAndKeptOffThePlainLine() {
        Admission admission = new Admission(Admission.Mode.REJECT_LATE, 1);
        admission.observeEncode(40);
        admission.observeDecode(10, 4);
        admission.observeDecodeAfterAdmit(60, 4);                           // 50 ms over a plain iteration of 4
        assertEquals(10, admission.decodeMsPerIteration(4), 1e-9, "the plain line is unchanged");
        ValidRequest r = request(21, true, 1_000, null, 0);
        assertEquals(40 + 50 + 20 * 10, admission.predictedServiceMs(r, 4), 1e-9, "its own encode and the iteration after it");
        admission.schedule(4, 5);                                           // RRA: an encode (and its next iteration) every 5
        assertEquals(90 + 200 + 4 * 90, admission.predictedServiceMs(r, 4), 1e-9);
        assertTrue(admission.refusal(r, ARRIVED + 700, 4).contains("first iteration after it 50.0 ms over a plain one"));
    }

    @Test
    void anEncoderCountsTheDecodeItsDecoderForecastsAndLearnsItsMarginFromItsOwnEncodeAlone() {
        Admission decoder = new Admission(Admission.Mode.REJECT_LATE, 1);
        ValidRequest r = request(21, true, 1_000, null, 0);
        assertNull(decoder.published(), "nothing published before a decode iteration");
        decoder.observeDecode(10, 4);
        decoder.observeDecodeAfterAdmit(30, 4);                             // 20 ms over a plain iteration
        for (int i = 0; i < Admission.MIN_CALIBRATION; i++) decoder.finished(100, 150, ARRIVED);  // it runs 1.5x slow
        decoder.publish(4, ARRIVED);
        assertEquals(20 + 20 * 10, decoder.published().serviceMs(21), 1e-9);
        assertEquals(1.5, decoder.published().margin(), 1e-9);

        Admission encoder = new Admission(Admission.Mode.REJECT_LATE, 1);
        encoder.observeEncode(40);
        assertNull(encoder.refusal(r, ARRIVED + 900, 4), "without a decoder's view only the 40 ms encode counts");
        encoder.downstream(decoder::published);
        assertEquals(40, encoder.predictedServiceMs(r, 4), 1e-9, "its own prediction, which its outcomes are held against");
        // The encoder's margin is 1 (no outcomes yet): 40 + 220 + the decoder's excess of 110 ms.
        assertNull(encoder.refusal(r, ARRIVED + 1_000 - 370, 4), "40 + 330 ms: exactly on time");
        String why = encoder.refusal(r, ARRIVED + 1_000 - 370 + 1, 4);
        assertNotNull(why, "one ms later it would finish past the SLO at the decoder");
        assertTrue(why.contains("the decoder's 220 ms for it x 1.50"), why);
        encoder.downstream(() -> null);
        assertNull(encoder.refusal(r, ARRIVED + 900, 4), "a decoder that has not decoded yet counts as zero");
    }

    @Test
    void twoStagesMarginsCombineAsIndependentErrors() {
        assertEquals(300 + 2000 + Math.hypot(150, 600), Admission.combined(300, 1.5, 2000, 1.3), 1e-9);
        assertEquals(300 + 2000 + 150 - 200, Admission.combined(300, 1.5, 2000, 0.9), 1e-9, "a margin under 1 adds as it is");
        assertEquals(2000 * 1.3, Admission.combined(Double.NaN, 1, 2000, 1.3), 1e-9, "no encode measured yet: the decode alone");
        assertTrue(Admission.combined(300, 1.5, 2000, 1.3) < 300 * 1.5 + 2000 * 1.3, "less than the sum of the two quantiles");
    }

    @Test
    void shouldUseTheEarlierOfTheDeadlineAndTheSlo() {
        ValidRequest r = request(5, true, 10_000, ARRIVED + 300, 0);
        assertEquals(ARRIVED + 300, Admission.deadlineEpochMs(r));
        assertEquals(ARRIVED + 200, Admission.deadlineEpochMs(request(5, true, 200, ARRIVED + 300, 0)));
        assertEquals(Long.MAX_VALUE, Admission.deadlineEpochMs(request(5, true, 0, null, 0)), "no SLO, no deadline");
        Admission admission = new Admission(Admission.Mode.REJECT_LATE, 1);
        admission.observeEncode(100);
        admission.observeDecode(100, 4);
        assertNull(admission.refusal(request(50, true, 0, null, 0), ARRIVED + 1e9, 4), "nothing to miss without a deadline");
        assertNotNull(admission.refusal(r, ARRIVED + 1, 4));
    }

    @Test
    void shouldUseTheLengthEstimateUnlessEosIsIgnored() {
        Admission admission = new Admission(Admission.Mode.REJECT_LATE, 1);
        admission.observeEncode(0);
        admission.observeDecode(1, 4);
        assertEquals(99, admission.predictedServiceMs(request(100, true, 1, null, 10), 4), 1e-9, "ignoreEos: all maxNewTokens");
        assertEquals(9, admission.predictedServiceMs(request(100, false, 1, null, 10), 4), 1e-9, "else the estimate");
        assertEquals(99, admission.predictedServiceMs(request(100, false, 1, null, 0), 4), 1e-9, "no estimate: maxNewTokens");
    }

    @Test
    void shouldRefuseNothingBeforeAStepIsMeasuredOrWhenOff() {
        Admission fresh = new Admission(Admission.Mode.REJECT_LATE, 1);
        ValidRequest hopeless = request(10, true, 1, null, 0);
        assertNull(fresh.refusal(hopeless, ARRIVED + 60_000, 1), "no measurement yet: run it");
        Admission off = new Admission(Admission.Mode.OFF);
        off.observeEncode(1_000);
        assertNull(off.refusal(hopeless, ARRIVED + 60_000, 1));
        assertEquals(0, off.numRefused());
    }

    @Test
    void shouldSmoothTheMeasuredStepTimes() {
        Admission admission = new Admission(Admission.Mode.REJECT_LATE, 1);
        admission.observeEncode(100);
        admission.observeEncode(200);
        assertEquals(100 + Admission.RARE_STEP_SMOOTHING * 100, admission.predictedServiceMs(request(1, true, 1, null, 0), 1), 1e-9);
    }

    @Test
    void theEncodeEstimateForgetsTheColdFirstEncodesWithinSixteenSteps() {
        Admission admission = new Admission(Admission.Mode.REJECT_LATE, 1);
        admission.observeEncode(800);                  // a JVM's first encode
        for (int i = 0; i < 16; i++) admission.observeEncode(200);
        double encode = admission.predictedServiceMs(request(1, true, 1, null, 0), 1);
        assertTrue(encode < 200 * 1.1, "within 10% of the encodes as they run now after sixteen of them: " + encode);
    }

    @Test
    void shouldMultiplyThePredictionByTheMeasuredOverPredictedQuantileOfItsOwnRecentOutcomes() {
        Admission admission = new Admission(Admission.Mode.REJECT_LATE, 1);
        admission.observeEncode(40);
        admission.observeDecode(10, 4);
        ValidRequest r = request(21, true, 1_000, null, 0);                 // 240 ms predicted
        double t = ARRIVED;
        for (int i = 0; i < 3; i++) {
            admission.finished(240, 480, t);
        }
        assertEquals(1, admission.margin(t), 1e-9, "three outcomes among 17 stand-ins of the prior (here 1): the p80 is the prior's");
        assertNull(admission.refusal(r, ARRIVED + 700, 4));
        for (int i = 3; i < Admission.MIN_CALIBRATION; i++) {
            admission.finished(240, 480, t);
        }
        assertEquals(2, admission.margin(t), 1e-9, "every request took twice its prediction");
        assertNull(admission.refusal(r, ARRIVED + 520, 4), "520 + 2 x 240 = 1000 ms: on time");
        String why = admission.refusal(r, ARRIVED + 521, 4);
        assertNotNull(why);
        assertTrue(why.contains("x 2.00, the p80 of measured over predicted"), why);
        for (int i = 0; i < 190; i++) {                                       // 190 at x1 and 10 at x2 of the newest 200
            admission.finished(100, 100, t);
        }
        assertEquals(1, admission.margin(t), 1e-9, "the p80 is x1");
        for (int i = 0; i < Admission.CALIBRATION_WINDOW; i++) {
            admission.finished(100, 1_000, t);
        }
        assertEquals(Admission.MAX_MARGIN, admission.margin(t), 1e-9, "clamped");
        admission.finished(0, 5, t);
        admission.finished(Double.NaN, 5, t);
        assertEquals(Admission.MAX_MARGIN, admission.margin(t), 1e-9, "no prediction, no outcome");
        assertEquals(1, admission.margin(t + Admission.CALIBRATION_MAX_AGE_MS + 1), 1e-9,
                "a margin learnt before the last 20 s, when nothing was admitted since, is forgotten");
    }

    @Test
    void beforeItsOwnOutcomesAJobsAdmissionStartsFromThePriorMarginAndEachOutcomeReplacesOneOfItsStandIns() {
        Admission admission = new Admission(Admission.Mode.REJECT_LATE);
        double t = ARRIVED;
        assertEquals(Admission.PRIOR_MARGIN, admission.margin(t), 1e-9, "no outcome yet");
        for (int i = 0; i < Admission.MIN_CALIBRATION / 2; i++) admission.finished(100, 100, t);
        assertEquals(Admission.PRIOR_MARGIN, admission.margin(t), 1e-9, "half of them x1: the p80 is still a stand-in's");
        for (int i = 0; i < Admission.MIN_CALIBRATION / 2; i++) admission.finished(100, 100, t);
        assertEquals(1, admission.margin(t), 1e-9, "enough of its own");
        assertEquals(Admission.PRIOR_MARGIN, admission.margin(t + Admission.CALIBRATION_MAX_AGE_MS + 1), 1e-9,
                "its outcomes forgotten: the prior again");
        Admission fresh = new Admission(Admission.Mode.REJECT_LATE);
        fresh.observeEncode(40);
        fresh.observeDecode(10, 4);
        ValidRequest r = request(21, true, 1_000, null, 0);                 // 240 ms predicted: x1.2 is 288 ms
        assertNull(fresh.refusal(r, ARRIVED + 712, 4), "712 + 288 = 1000 ms: on time");
        String why = fresh.refusal(r, ARRIVED + 760, 4);                    // on time at x1, not at the prior's x1.2
        assertNotNull(why);
        assertTrue(why.contains("x 1.20, the p80"), why);
        assertThrows(IllegalArgumentException.class, () -> new Admission(Admission.Mode.REJECT_LATE, 0.5));
    }

    @Test
    void shouldPredictAtTheSchedulesDecodeBatchWithItsEncodeStalls() {
        Admission admission = new Admission(Admission.Mode.REJECT_LATE, 1);
        admission.observeEncode(40);
        for (int b = 1; b <= 8; b++) {
            admission.observeDecode(2 + b, b);                                // 2 ms + 1 ms per sequence
        }
        ValidRequest r = request(21, true, 1_000, null, 0);
        assertEquals(40 + 20 * 3, admission.predictedServiceMs(r, 1), 1e-6, "alone, without a plan: the batch it joins");
        admission.schedule(8, 0);
        assertEquals(40 + 20 * 10, admission.predictedServiceMs(r, 1), 1e-6, "it will decode at the planned batch of 8");
        assertEquals(40 + 20 * 11, admission.predictedServiceMs(r, 9), 1e-6, "or the one it joins, if larger");
        Admission fewSeen = new Admission(Admission.Mode.REJECT_LATE, 1);
        fewSeen.observeEncode(40);
        fewSeen.observeDecode(3, 1);
        fewSeen.observeDecode(14, 2);                                           // a noisy slope of 11 ms a sequence
        fewSeen.schedule(9, 0);
        assertEquals(2, fewSeen.predictionBatch(1), "no larger batch than it has seen");
        assertTrue(fewSeen.decodeMsPerIteration(2) <= 14.0 + 1e-9);
        assertTrue(fewSeen.decodeMsPerIteration(9) <= 9 * fewSeen.decodeMsPerIteration(2) / 2 + 1e-9,
                "the line has no negative intercept: no steeper than the mean cost per sequence");
        admission.schedule(8, 5);
        assertEquals(40 + 20 * 10 + 4 * 40, admission.predictedServiceMs(r, 1), 1e-6, "RRA: an encode every 5 of its 20 iterations");
        assertTrue(admission.refusal(r, ARRIVED + 700, 1).contains("+ an encode every 5 iterations"));
    }

    @Test
    void aDecoderShouldJudgeAnEncodedRequestByItsDecodeAlone() {
        Admission decoder = new Admission(Admission.Mode.REJECT_LATE, 1);
        decoder.observeDecode(10, 4);
        ValidRequest r = request(21, true, 1_000, null, 0);
        assertEquals(200, decoder.predictedServiceMs(r, 4), 1e-9, "20 tokens x 10 ms; the encode ran elsewhere");
        assertNull(decoder.refusal(r, ARRIVED + 800, 4));
        assertNotNull(decoder.refusal(r, ARRIVED + 801, 4));
    }

    @Test
    void shouldParseTheModeWithAClearMessage() {
        assertEquals(Admission.Mode.REJECT_LATE, Admission.Mode.parse(" Reject-Late "));
        assertEquals(Admission.Mode.OFF, Admission.Mode.parse("off"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Admission.Mode.parse("maybe"));
        assertEquals("admission mode 'maybe': expected off or reject-late", e.getMessage());
    }

    @Test
    void shouldFitTheDecodeIterationToTheBatchSoThatAFullBatchDoesNotLockOutAnEmptyOne() {
        Admission admission = new Admission(Admission.Mode.REJECT_LATE, 1);
        admission.observeEncode(10);
        for (int i = 0; i < 20; i++) {
            admission.observeDecode(5 + 2 * 32, 32);          // ms = 5 + 2 x batch
            admission.observeDecode(5 + 2 * 4, 4);
        }
        assertEquals(5 + 2 * 32, admission.decodeMsPerIteration(32), 1e-6);
        assertEquals(5 + 2 * 1, admission.decodeMsPerIteration(1), 1e-6);
        ValidRequest r = request(21, true, 1_000, null, 0);
        assertNotNull(admission.refusal(r, ARRIVED, 32), "10 + 20 x 69 ms at a full batch misses 1000 ms");
        assertNull(admission.refusal(r, ARRIVED, 1), "10 + 20 x 7 ms alone fits");
    }
}
