package dev.exegpt.runtime.model;

import dev.exegpt.runtime.backend.Ops;

/**
 * The feed-forward sub-layer with its norm and residual, written once for every family:
 * {@code x += down(act(in(norm(x))) [* gate(norm(x))]) + downBias}. Variants: ReLU (OPT, T5 v1.0), gated-GELU
 * (T5 v1.1: gelu(wi_0 h) * wi_1 h) and SwiGLU (Llama: silu(gate_proj h) * up_proj h). Under tensor parallelism in and
 * gate are split by outputs, down by inputs, and the partial sums meet in the all-reduce before the bias
 * ({@link Ops#residual}).
 */
public final class FeedForward {

    /** The activation between the two projections. */
    public enum Activation {
        RELU, GATED_GELU, SWIGLU;

        boolean gated() {
            return this != RELU;
        }

        /** The element-wise function on the activated projection. */
        Ops.Fn fn() {
            return switch (this) {
                case RELU -> Ops.Fn.RELU;
                case GATED_GELU -> Ops.Fn.GELU;
                case SWIGLU -> Ops.Fn.SILU;
            };
        }
    }

    private final Activation activation;
    private final ShardLayout shard;
    private final Ops ops;
    private final int dModel;
    private final Norm norm;
    private final Ops.Weight in;           // (localFfn, dModel): the activated projection; outputs split
    private final float[] inBias;          // (localFfn) or null
    private final Ops.Weight gate;         // (localFfn, dModel): the linear factor of a gated variant, else null
    private final Ops.Weight down;         // (dModel, localFfn), inputs split
    private final float[] downBias;        // (dModel) or null, added after the all-reduce
    private final Ops.Weight[] inAndGate;  // a gated variant's two projections of one input, else null
    private final float[][] inAndGateBias;
    private final Ops.Act[] inAndGateOut = new Ops.Act[2];   // this step's (one device thread runs a layer)

    /**
     * Loads the weights by name (null names: no such tensor) and slices them for the shard.
     *
     * @param inName the activated projection (fc1, wi, wi_0, gate_proj)
     * @param gateName the multiplied projection of a gated variant (wi_1, up_proj), else null
     * @param downName the output projection (fc2, wo, down_proj)
     */
    public FeedForward(ModelConfig c, Weights w, Activation activation, Norm norm, String inName, String inBiasName,
                       String gateName, String downName, String downBiasName, ShardLayout shard, Ops ops) {
        this.activation = activation;
        this.shard = shard;
        this.ops = ops;
        Ops k = ops;
        this.dModel = c.dModel();
        this.norm = norm;
        int d = c.dModel();
        int f = c.ffnDim();
        int fs = shard.ffnStart();
        int lf = shard.localFfn();
        if (activation.gated() != (gateName != null)) {
            throw new IllegalArgumentException(activation + ": a gate projection is needed exactly for gated variants");
        }
        in = w.matrix(inName, f, d, Split.OUTPUTS, fs, lf, k);
        inBias = inBiasName == null ? null : w.vector(inBiasName, f, Split.OUTPUTS, fs, lf);
        gate = gateName == null ? null : w.matrix(gateName, f, d, Split.OUTPUTS, fs, lf, k);
        down = w.matrix(downName, d, f, Split.INPUTS, fs, lf, k);
        downBias = downBiasName == null ? null : w.vector(downBiasName, d, Split.NONE, 0, d);
        ops.resident(inBias, downBias, norm.weight(), norm.bias());
        inAndGate = gate == null ? null : new Ops.Weight[] {in, gate};
        inAndGateBias = new float[][] {inBias, null};
    }

    public long weightBytes() {
        long vectors = (inBias == null ? 0 : 4L * inBias.length) + (downBias == null ? 0 : 4L * downBias.length);
        return in.numBytes() + (gate == null ? 0 : gate.numBytes()) + down.numBytes() + norm.numBytes() + vectors;
    }

    /** x (t, dModel) += the sub-layer of x; in place (the residual stream). */
    public void forward(Ops.Act x, int t) {
        long lf = (long) t * shard.localFfn();
        Ops.Act h = ops.act((long) t * dModel);                         // (t, d)
        ops.norm(h, x, norm, t);
        Ops.Act a = ops.act(lf);                                        // (t, localFfn)
        if (gate != null) {
            Ops.Act g = ops.act(lf);                                    // (t, localFfn)
            inAndGateOut[0] = a;
            inAndGateOut[1] = g;
            ops.linears(inAndGateOut, h, inAndGate, inAndGateBias, t);
            ops.gated(activation.fn(), a, g, lf);
        } else {
            ops.linear(a, h, in, inBias, t);
            ops.apply(activation.fn(), a, lf);
        }
        ops.residual(x, a, down, downBias, t);
    }
}
