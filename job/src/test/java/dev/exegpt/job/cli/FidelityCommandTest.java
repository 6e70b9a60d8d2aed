package dev.exegpt.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Wrong flags of {@code exegpt fidelity} end in one line that says what is expected, before any profile or engine work. */
class FidelityCommandTest {

    @Test
    void badFlagsAreUsageErrors() {
        StdStreams fit = StdStreams.run("fidelity", "--model", "no-such-model", "--fit-requests", "5");
        assertEquals(2, fit.exitCode());
        assertEquals("fidelity: --fit-requests 5: 0 (no fit) or at least 10", fit.err().strip());

        StdStreams schedule = StdStreams.run("fidelity", "--model", "no-such-model", "--schedules", "rra:2:12,fifo");
        assertEquals(2, schedule.exitCode());
        assertEquals("fidelity: schedule fifo: expected rra:B_E:N_D, static:B or continuous", schedule.err().strip());

        StdStreams fitSchedule = StdStreams.run("fidelity", "--model", "no-such-model", "--fit-schedule", "static:eight");
        assertEquals(2, fitSchedule.exitCode());
        assertEquals("fidelity: schedule static:eight: expected rra:B_E:N_D, static:B or continuous", fitSchedule.err().strip());
    }
}
