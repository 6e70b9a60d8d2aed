package dev.exegpt.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Wrong flags and settings of {@code exegpt run} and {@code exegpt demo} end in one line that says what to do. */
class RunCommandTest {

    @Test
    void inputWithoutOutputIsAUsageError() {
        StdStreams run = StdStreams.run("run", "--input", "requests.jsonl");
        assertEquals(2, run.exitCode());
        assertEquals("run: --input and --output go together (batch mode); give both or neither", run.err().strip());
    }

    @Test
    void aMissingCheckpointNamesTheFolderAndHowToMakeOne() {
        StdStreams run = StdStreams.run("run", "--model", "target/no-such-model", "--input", "pom.xml", "--output", "target/x.jsonl");
        assertEquals(1, run.exitCode(), run.err());
        assertTrue(run.err().contains("model.dir target/no-such-model: no checkpoint there"), run.err());
        assertTrue(run.err().contains("exegpt model init"), run.err());
    }

    @Test
    void badSettingsNameTheKeyAndTheExpectation() {
        StdStreams noEquals = StdStreams.run("run", "--set", "executors");
        assertEquals(2, noEquals.exitCode());
        assertTrue(noEquals.err().contains("--set executors: expected key=value"), noEquals.err());

        StdStreams badNumber = StdStreams.run("run", "--model", "target/m", "--set", "executors=many");
        assertEquals(1, badNumber.exitCode());
        assertTrue(badNumber.err().contains("executors=many: expected an integer in 1..1024"), badNumber.err());

        StdStreams badDelivery = StdStreams.run("run", "--model", "target/m", "--set", "delivery=maybe");
        assertTrue(badDelivery.err().contains("delivery=maybe: expected one of [exactly-once, at-least-once]"), badDelivery.err());
    }

    @Test
    void demoRejectsImpossibleOptions() {
        StdStreams demo = StdStreams.run("demo", "--requests", "0");
        assertEquals(2, demo.exitCode());
        assertTrue(demo.err().contains("--requests 0: must be >= 1"), demo.err());
        StdStreams baseline = StdStreams.run("demo", "--baseline", "orca");
        assertEquals(2, baseline.exitCode());
        assertTrue(baseline.err().contains("--baseline orca: expected none or static"), baseline.err());
    }
}
