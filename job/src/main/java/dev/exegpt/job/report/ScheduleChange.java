package dev.exegpt.job.report;

import java.util.Locale;
import java.util.Optional;

import dev.exegpt.schemas.Schedule;

/**
 * A schedule version the job's control loop decided, as it is shown beside the results that ran under it: when, what,
 * and why (what was measured and predicted, the fit factors, the time to re-plan), from the schedule's notes.
 *
 * @param scheduleId  the schedule's id: the run whose results name it
 * @param version     the new version
 * @param atEpochMs   when it was decided (the schedule's {@code createdEpochMs})
 * @param schedule    the new schedule in a few words, e.g. "RRA B_E=2 N_D=9 (decode batch 18)"
 * @param reason      the loop's reason, as it published it
 * @param fit         the fit factors, e.g. "encode x1.00, decode x1.87"
 * @param planMs      the time the decision took, ms; NaN where not given
 */
public record ScheduleChange(String scheduleId, int version, long atEpochMs, String schedule, String reason, String fit, double planMs) {

    /** The change {@code s} records, if the control loop decided it (its notes carry {@code control.reason}). */
    public static Optional<ScheduleChange> of(Schedule s) {
        String reason = s.getNotes().get("control.reason");
        if (reason == null) {
            return Optional.empty();
        }
        double planMs;
        try {
            planMs = Double.parseDouble(s.getNotes().getOrDefault("control.planMs", "NaN"));
        } catch (NumberFormatException e) {
            planMs = Double.NaN;
        }
        String what = String.format(Locale.ROOT, "%s B_E=%d N_D=%d (decode batch %d)", s.getPolicy(), s.getEncodeBatchSize(),
                s.getDecodeIterationsPerEncode(), s.getDecodeBatchSize());
        return Optional.of(new ScheduleChange(s.getScheduleId(), s.getVersion(), s.getCreatedEpochMs(), what, reason,
                s.getNotes().getOrDefault("control.fit", ""), planMs));
    }

    /** One line: "v2: RRA ... : reason (fit ...; planned in 12 ms)". */
    public String describe() {
        return String.format(Locale.ROOT, "v%d: %s: %s (fit %s%s)", version, schedule, reason, fit.isEmpty() ? "n/a" : fit,
                Double.isNaN(planMs) ? "" : String.format(Locale.ROOT, "; planned in %.0f ms", planMs));
    }
}
