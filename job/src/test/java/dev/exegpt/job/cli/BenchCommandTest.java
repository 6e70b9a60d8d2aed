package dev.exegpt.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Wrong flags of {@code exegpt bench} end in one line that says what is expected, before anything is made or started. */
class BenchCommandTest {

    @Test
    void badFlagsAreUsageErrors() {
        StdStreams arrival = StdStreams.run("bench", "--arrival", "burst");
        assertEquals(2, arrival.exitCode());
        assertEquals("bench: --arrival burst: expected bulk or poisson", arrival.err().strip());

        StdStreams rateWithBulk = StdStreams.run("bench", "--rate", "3");
        assertEquals(2, rateWithBulk.exitCode());
        assertTrue(rateWithBulk.err().contains("--rate 3 needs --arrival poisson"), rateWithBulk.err());

        StdStreams badRate = StdStreams.run("bench", "--arrival", "poisson", "--rate", "fast");
        assertTrue(badRate.err().contains("--rate fast: expected a positive number of requests/s, or auto"), badRate.err());

        StdStreams few = StdStreams.run("bench", "--requests", "2");
        assertTrue(few.err().contains("--requests 2: at least 5 per policy and round"), few.err());

        StdStreams rounds = StdStreams.run("bench", "--quick", "--rounds", "0");
        assertTrue(rounds.err().contains("--rounds 0: at least 1"), rounds.err());
    }
}
