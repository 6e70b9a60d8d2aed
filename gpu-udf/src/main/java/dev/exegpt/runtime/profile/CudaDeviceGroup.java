package dev.exegpt.runtime.profile;

import dev.exegpt.runtime.backend.Ops;
import dev.exegpt.runtime.cuda.CudaOps;
import dev.exegpt.runtime.model.Layer;
import dev.exegpt.runtime.model.LayerWorkload;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.Phase;
import dev.exegpt.runtime.model.SequenceState;
import dev.exegpt.runtime.model.ShardLayout;
import dev.exegpt.runtime.model.StepBatch;
import dev.exegpt.runtime.model.Weights;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * One GPU as a device group of degree 1: the family's layer over {@link CudaOps}, each workload's sequences given
 * states in the device pool (of the workload's shapes; their contents are whatever the pool held, which does not
 * change the time), inputs uploaded once. Each call queues the kernels, waits for the stream and ends the step.
 */
final class CudaDeviceGroup implements DeviceGroup {
    /** Workloads whose device states and inputs are kept (the measurements in flight use at most three at once). */
    private static final int KEPT = 8;

    private final CudaOps ops;
    private final ShardLayout whole;
    private final Map<StepBatch, StepBatch> onDevice = new IdentityHashMap<>();
    private final Map<float[], Ops.Act> inputs = new IdentityHashMap<>();
    private final List<Object> order = new ArrayList<>();                 // oldest first, for eviction

    CudaDeviceGroup(ModelConfig c, CudaOps ops) {
        this.ops = ops;
        this.whole = ShardLayout.of(c, 0, 1);
    }

    @Override
    public int degree() {
        return 1;
    }

    @Override
    public List<Layer> layers(ModelConfig c, Weights w, Phase phase) {
        return List.of(c.family().layer(c, w, phase, 0, whole, ops));
    }

    /** The batch's rows over device states of the same shapes. */
    private StepBatch device(StepBatch b) {
        StepBatch d = onDevice.get(b);
        if (d != null) return d;
        List<SequenceState> states = new ArrayList<>();
        int[] numRows = new int[b.numSequences()];
        int[] startPos = new int[b.numSequences()];
        for (int i = 0; i < b.numSequences(); i++) {
            SequenceState h = b.state(i);
            long bytes = dev.exegpt.runtime.cuda.StateLayout.of(ops.config(), h.maxPositions, h.encoderLength).numBytes();
            SequenceState s = ops.allocate(h.maxPositions, h.encoderLength, bytes);
            if (s == null) {
                for (SequenceState t : states) ops.free(t);
                throw new IllegalStateException("profile step of " + b.numSequences() + " sequences: the device's"
                        + " state pool is too small");
            }
            s.length = h.length;
            states.add(s);
            numRows[i] = b.numRows(i);
            startPos[i] = b.startPos(i);
        }
        d = new StepBatch(states, numRows, startPos);
        keep(b);
        onDevice.put(b, d);
        return d;
    }

    private Ops.Act input(float[] x) {
        Ops.Act a = inputs.get(x);
        if (a == null) {
            a = ops.copyOf(x);
            keep(x);
            inputs.put(x, a);
        }
        return a;
    }

    /** Remembers a new key, dropping the oldest beyond {@link #KEPT} (its states and buffers freed). */
    private void keep(Object key) {
        order.add(key);
        while (order.size() > 2 * KEPT) {
            Object old = order.remove(0);
            StepBatch d = onDevice.remove(old);
            if (d != null) for (int i = 0; i < d.numSequences(); i++) ops.free(d.state(i));
            Ops.Act a = inputs.remove(old);
            if (a != null) ops.free(a);
        }
    }

    @Override
    public double forwardMs(List<Layer> layers, StepBatch b, float[] x) {
        StepBatch d = device(b);
        Ops.Act in = input(x);
        Ops.Act a = ops.act(x.length);
        ops.copy(a, in, x.length);                                       // layers update x in place
        double ms = ops.timedMs(() -> {
            for (Layer l : layers) l.forward(d, a);
        });
        ops.endStep();
        return ms;
    }

    /** The attention kernels of one layer; run with {@link #runMs}, which times them with events. */
    @Override
    public Runnable attentionOnly(LayerWorkload w, int rank) {
        int t = w.numTokens();
        return () -> {
            StepBatch d = device(w.batch());
            Ops.Act q = ops.act((long) t * whole.localInner());
            Ops.Act k = ops.act((long) t * whole.localKvInner());
            Ops.Act v = ops.act((long) t * whole.localKvInner());
            Ops.Act out = ops.act((long) t * whole.localInner());
            w.attentionOnly(whole, ops, d, q, k, v, out).run();
        };
    }

    @Override
    public void run(IntFunction<Runnable> task) {
        runMs(task);
    }

    @Override
    public double runMs(IntFunction<Runnable> task) {
        double ms = ops.timedMs(task.apply(0));
        ops.endStep();
        return ms;
    }

    @Override
    public void allReduce(int rank, float[] data, int len) {
        throw new UnsupportedOperationException("one GPU: no all-reduce (TP degree 1)");
    }

    /** Frees the states and inputs it made; the ops stay open (the profiler's). */
    @Override
    public void close() {
        for (Iterator<Object> it = order.iterator(); it.hasNext(); ) {
            Object key = it.next();
            StepBatch d = onDevice.remove(key);
            if (d != null) for (int i = 0; i < d.numSequences(); i++) ops.free(d.state(i));
            Ops.Act a = inputs.remove(key);
            if (a != null) ops.free(a);
            it.remove();
        }
    }
}
