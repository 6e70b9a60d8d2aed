package dev.exegpt.scheduler.plan;

import java.util.Locale;

/**
 * ExeGPT's policies (PAPER.md §4-5) and the baselines measured the same way (PAPER.md §12.5, §17).
 *
 * <p>CONTINUOUS is Orca's iteration-level batching as the paper emulated it (one prefill admitted per pipeline stage
 * per iteration). It keeps its name, not ORCA: schedules already on topics and in files carry the Avro symbol
 * CONTINUOUS, and a renamed symbol would need an alias in every reader. vLLM is modelled by two policies of its own:
 * VLLM_V0 (its V0 default scheduler: prompt-only steps of as many waiting prompts as fit the token budget and the
 * sequence cap, otherwise a decode step) and VLLM_V1 (its V1 scheduler: chunked prefill, decode tokens first, then
 * prompt chunks up to the budget; decoder-only models).
 */
public enum Policy {
    RRA, WAA_C, WAA_M, STATIC, CONTINUOUS, DISAGGREGATED, VLLM_V0, VLLM_V1;

    public boolean isWaa() {
        return this == WAA_C || this == WAA_M;
    }

    public boolean isExegpt() {
        return this == RRA || isWaa();
    }

    /** vLLM's schedulers, whose knobs are a per-step token budget and a sequence cap. */
    public boolean isVllm() {
        return this == VLLM_V0 || this == VLLM_V1;
    }

    /** Accepts orca as CONTINUOUS's other name (the policy is Orca's). */
    private static String canonical(String s) {
        String name = s.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        return switch (name) {
            case "ORCA" -> "CONTINUOUS";
            case "VLLM", "VLLM1" -> "VLLM_V1";
            case "VLLM0" -> "VLLM_V0";
            default -> name;
        };
    }

    /** Accepts rra, waa-c, waa_c, WAA-M, static, ... */
    public static Policy parse(String s) {
        try {
            return valueOf(canonical(s));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown policy '%s': expected rra, waa-c, waa-m, static, continuous (orca), disaggregated, vllm-v0 or vllm-v1"
                    .formatted(s));
        }
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
