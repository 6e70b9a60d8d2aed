package dev.exegpt.scheduler.plan;

import static dev.exegpt.scheduler.Require.require;

/**
 * One point of a schedule search space (PAPER.md §2.1): the control variables of a policy.
 *
 * @param encodeBatchSize           B_E (STATIC: the fixed batch; CONTINUOUS: ignored, one prefill per iteration;
 *                                  VLLM_V0 / VLLM_V1: max_num_seqs, the most requests running at once)
 * @param decodeIterationsPerEncode N_D under RRA (1 elsewhere)
 * @param decodeMicroBatchSize      B_m under WAA; 0 = the decode batch is not split
 * @param tpDegree                  degree of the tensor-parallel stages (1 = none)
 * @param numTpDevices              devices in tensor-parallel stages (partial TP, PAPER.md §6); a multiple of tpDegree
 * @param numEncoderDevices         WAA / DISAGGREGATED: devices for encoding; 0 = chosen by the policy's rule
 * @param maxNumBatchedTokens       VLLM_V0 / VLLM_V1: the token budget of one step (vLLM's max_num_batched_tokens);
 *                                  0 elsewhere
 */
public record Candidate(Policy policy, int numDevices, int encodeBatchSize, int decodeIterationsPerEncode,
                        int decodeMicroBatchSize, int tpDegree, int numTpDevices, int numEncoderDevices,
                        int maxNumBatchedTokens) {
    public Candidate {
        require(numDevices >= 1, "numDevices must be >= 1, got %s", numDevices);
        require(encodeBatchSize >= 1, "encodeBatchSize must be >= 1, got %s", encodeBatchSize);
        require(decodeIterationsPerEncode >= 1, "decodeIterationsPerEncode must be >= 1, got %s", decodeIterationsPerEncode);
        require(decodeMicroBatchSize >= 0, "decodeMicroBatchSize must be >= 0, got %s", decodeMicroBatchSize);
        require(Integer.bitCount(tpDegree) == 1, "tpDegree must be a power of two, got %s", tpDegree);
        require(numTpDevices >= 0 && numTpDevices <= numDevices && numTpDevices % tpDegree == 0,
                "numTpDevices must be a multiple of tpDegree %s in 0..%s, got %s", tpDegree, numDevices, numTpDevices);
        require(numEncoderDevices >= 0 && numEncoderDevices < Math.max(2, numDevices),
                "numEncoderDevices must be in 0..%s, got %s", numDevices - 1, numEncoderDevices);
        require(policy.isVllm() ? maxNumBatchedTokens >= encodeBatchSize : maxNumBatchedTokens == 0,
                "maxNumBatchedTokens must be >= max_num_seqs %s under vLLM (as vLLM requires) and 0 elsewhere, got %s",
                encodeBatchSize, maxNumBatchedTokens);
    }

    /** A policy without a token budget (every policy but vLLM's). */
    public Candidate(Policy policy, int numDevices, int encodeBatchSize, int decodeIterationsPerEncode,
                     int decodeMicroBatchSize, int tpDegree, int numTpDevices, int numEncoderDevices) {
        this(policy, numDevices, encodeBatchSize, decodeIterationsPerEncode, decodeMicroBatchSize, tpDegree, numTpDevices,
                numEncoderDevices, 0);
    }

    /**
     * vLLM (VLLM_V0 or VLLM_V1) with a sequence cap and a per-step token budget, on stages of the given TP degree.
     *
     * @param maxNumSeqs          max_num_seqs
     * @param maxNumBatchedTokens max_num_batched_tokens
     */
    public static Candidate vllm(Policy policy, int numDevices, int maxNumSeqs, int maxNumBatchedTokens, int tpDegree,
                                 int numTpDevices) {
        require(policy.isVllm(), "not a vLLM policy: %s", policy);
        return new Candidate(policy, numDevices, maxNumSeqs, 1, 0, tpDegree, numTpDevices, 0, maxNumBatchedTokens);
    }

    public static Candidate rra(int numDevices, int encodeBatchSize, int decodeIterationsPerEncode, int tpDegree, int numTpDevices) {
        return new Candidate(Policy.RRA, numDevices, encodeBatchSize, decodeIterationsPerEncode, 0, tpDegree, numTpDevices, 0);
    }

    public static Candidate waa(Policy policy, int numDevices, int encodeBatchSize, int decodeMicroBatchSize,
                                int tpDegree, int numTpDevices) {
        return new Candidate(policy, numDevices, encodeBatchSize, 1, decodeMicroBatchSize, tpDegree, numTpDevices, 0);
    }

    /**
     * A one-device schedule from its short form, as the CLI's fidelity and bench arms name them: rra:B_E:N_D, static:B,
     * continuous (or orca), vllm-v0:MAX_NUM_SEQS:MAX_NUM_BATCHED_TOKENS, vllm-v1:MAX_NUM_SEQS:MAX_NUM_BATCHED_TOKENS.
     */
    public static Candidate parse(String spec) {
        String[] p = spec.trim().toLowerCase(java.util.Locale.ROOT).split(":");
        String expected = "schedule " + spec + ": expected rra:B_E:N_D, static:B, continuous (orca), "
                + "vllm-v0:SEQS:TOKENS or vllm-v1:SEQS:TOKENS";
        try {
            return switch (p[0]) {
                case "rra" -> rra(1, Integer.parseInt(p[1]), Integer.parseInt(p[2]), 1, 0);
                case "static" -> new Candidate(Policy.STATIC, 1, Integer.parseInt(p[1]), 1, 0, 1, 0, 0);
                case "continuous", "orca" -> new Candidate(Policy.CONTINUOUS, 1, 1, 1, 0, 1, 0, 0);
                case "vllm-v0", "vllm-v1" -> vllm(Policy.parse(p[0]), 1, Integer.parseInt(p[1]), Integer.parseInt(p[2]), 1, 0);
                default -> throw new IllegalArgumentException(expected);
            };
        } catch (ArrayIndexOutOfBoundsException | NumberFormatException e) {
            throw new IllegalArgumentException(expected);
        }
    }

    public String describe() {
        return switch (policy) {
            case RRA -> "RRA B_E=%d N_D=%d TP=%dx%d".formatted(encodeBatchSize, decodeIterationsPerEncode, tpDegree, numTpDevices / tpDegree);
            case WAA_C, WAA_M -> "%s B_E=%d B_m=%s TP=%dx%d".formatted(policy.cliName().toUpperCase(), encodeBatchSize,
                    decodeMicroBatchSize == 0 ? "all" : decodeMicroBatchSize, tpDegree, numTpDevices / tpDegree);
            case STATIC -> "STATIC B=%d TP=%d PP=%d".formatted(encodeBatchSize, tpDegree, numDevices / tpDegree);
            case CONTINUOUS -> "CONTINUOUS TP=%d PP=%d".formatted(tpDegree, numDevices / tpDegree);
            case DISAGGREGATED -> "DISAGGREGATED B_E=%d prefill=%d decode=%d".formatted(encodeBatchSize, numEncoderDevices,
                    numDevices - numEncoderDevices);
            case VLLM_V0, VLLM_V1 -> "%s max_num_seqs=%d max_num_batched_tokens=%d TP=%dx%d".formatted(
                    policy.name().replace("_", "-"), encodeBatchSize, maxNumBatchedTokens, tpDegree,
                    numTpDevices / tpDegree);
        };
    }
}
