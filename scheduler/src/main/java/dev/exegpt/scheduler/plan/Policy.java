package dev.exegpt.scheduler.plan;

import java.util.Locale;

/** ExeGPT's policies (PAPER.md §4-5) and the baselines measured the same way (PAPER.md §12.5, §17). */
public enum Policy {
    RRA, WAA_C, WAA_M, STATIC, CONTINUOUS, DISAGGREGATED;

    public boolean isWaa() {
        return this == WAA_C || this == WAA_M;
    }

    public boolean isExegpt() {
        return this == RRA || isWaa();
    }

    /** Accepts rra, waa-c, waa_c, WAA-M, static, ... */
    public static Policy parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown policy '%s': expected rra, waa-c, waa-m, static, continuous or disaggregated"
                    .formatted(s));
        }
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
