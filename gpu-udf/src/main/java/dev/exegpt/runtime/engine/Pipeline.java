package dev.exegpt.runtime.engine;

import dev.exegpt.runtime.backend.Ops;
import dev.exegpt.runtime.backend.cpu.CpuOps;
import dev.exegpt.runtime.kernel.Kernels;
import dev.exegpt.runtime.kernel.ReferenceKernels;
import dev.exegpt.runtime.kernel.VectorKernels;
import dev.exegpt.runtime.model.Layer;
import dev.exegpt.runtime.model.LoopbackAllReduce;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.Phase;
import dev.exegpt.runtime.model.ShardLayout;
import dev.exegpt.runtime.model.StepBatch;
import dev.exegpt.runtime.model.Weights;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The device group at work: every device is a worker thread with its own kernels and its own slice of the weights;
 * stages are chained per phase, and a micro-batch handed to a stage moves on as soon as the stage is done with it,
 * so several micro-batches are in flight. In a tensor-parallel stage every rank runs the same layers on its shard
 * of the weights and its own copy of the activations, meeting in the all-reduce; rank 0 passes the result on. A
 * layout of one device runs its layers on the caller's thread instead (nothing to overlap, two wake-ups a step saved).
 */
final class Pipeline implements AutoCloseable {
    private final List<Stage> stages = new ArrayList<>();
    private final Map<Phase, List<Stage>> chains = new EnumMap<>(Phase.class);
    private final List<Thread> threads = new ArrayList<>();
    /**
     * One device: its layers run on the caller's thread, between the head's work before and after them, instead of
     * being handed to a device thread and back (two wake-ups a step, a few percent of a small model's batch-1 step).
     */
    private final boolean inline;

    /** One micro-batch travelling through the chain of a phase. */
    static final class Work {
        final Phase phase;
        final StepBatch batch;
        final float[] x;                                   // (numTokens, dModel), the residual stream
        final CompletableFuture<float[]> done = new CompletableFuture<>();
        int chainIndex;

        Work(Phase phase, StepBatch batch, float[] x) {
            this.phase = phase;
            this.batch = batch;
            this.x = x;
        }
    }

    private record Task(Work work, float[] x, boolean leader) {}

    private final class Device implements Runnable {
        final Stage stage;
        final int rank;
        final CpuOps ops;
        final Map<Phase, List<Layer>> layers = new EnumMap<>(Phase.class);
        final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
        long weightBytes;

        Device(Stage stage, int rank, CpuOps ops) {
            this.stage = stage;
            this.rank = rank;
            this.ops = ops;
        }

        @Override
        public void run() {
            while (true) {
                Object next;
                try {
                    next = inbox.take();
                } catch (InterruptedException e) {
                    return;
                }
                if (!(next instanceof Task task)) return;            // the poison pill
                runTask(task);
            }
        }

        void runTask(Task task) {
            try {
                ops.endStep();                                       // the previous task's activations are dead
                Ops.Act x = CpuOps.wrap(task.x());
                for (Layer l : layers.get(task.work().phase)) l.forward(task.work().batch, x);
                if (task.leader()) advance(task.work());
            } catch (Throwable t) {
                stage.allReduce.abort();
                task.work().done.completeExceptionally(t);
            }
        }
    }

    private final class Stage {
        final StageSpec spec;
        final LoopbackAllReduce allReduce;
        final List<Device> devices = new ArrayList<>();

        Stage(StageSpec spec) {
            this.spec = spec;
            this.allReduce = new LoopbackAllReduce(spec.tpDegree());
        }

        void submit(Work w) {
            if (inline) {
                devices.get(0).runTask(new Task(w, w.x, true));
                return;
            }
            List<Task> tasks = new ArrayList<>();
            for (Device d : devices) tasks.add(new Task(w, d.rank == 0 ? w.x : w.x.clone(), d.rank == 0));
            for (int i = 0; i < tasks.size(); i++) devices.get(i).inbox.add(tasks.get(i));   // copies made first
        }
    }

    /**
     * The stages of specs, each device on its own thread with kernels of threadsPerDevice threads; a one-device
     * layout's device shares the threads of shareWith when given (see {@link VectorKernels#sharingThreadsOf}).
     */
    Pipeline(ModelConfig c, Weights w, List<StageSpec> specs, boolean referenceKernels, int threadsPerDevice,
             VectorKernels shareWith) {
        this.inline = specs.size() == 1 && specs.get(0).tpDegree() == 1;
        chains.put(Phase.ENCODE, new ArrayList<>());
        chains.put(Phase.DECODE, new ArrayList<>());
        for (StageSpec spec : specs) {
            Stage stage = new Stage(spec);
            for (int rank = 0; rank < spec.tpDegree(); rank++) {
                Kernels k = referenceKernels ? new ReferenceKernels()
                        : inline && shareWith != null && shareWith.numThreads() == threadsPerDevice
                        ? VectorKernels.sharingThreadsOf(shareWith) : new VectorKernels(threadsPerDevice);
                CpuOps ops = new CpuOps(k, stage.allReduce, rank);
                Device d = new Device(stage, rank, ops);
                ShardLayout shard = ShardLayout.of(c, rank, spec.tpDegree());
                Map<Integer, Layer> decode = new HashMap<>();
                List<Layer> decodeLayers = new ArrayList<>();
                for (int i = spec.decodeFirst(); i < spec.decodeEnd(); i++) {
                    Layer l = c.family().layer(c, w, Phase.DECODE, i, shard, ops);
                    decode.put(i, l);
                    decodeLayers.add(l);
                }
                List<Layer> encodeLayers = new ArrayList<>();
                boolean shared = !c.encoderDecoder();
                for (int i = spec.encodeFirst(); i < spec.encodeEnd(); i++) {
                    Layer l = shared && decode.containsKey(i) ? decode.get(i) : c.family().layer(c, w, Phase.ENCODE, i, shard, ops);
                    encodeLayers.add(l);
                    if (!(shared && decode.containsKey(i))) d.weightBytes += l.weightBytes();
                }
                for (Layer l : decodeLayers) d.weightBytes += l.weightBytes();
                d.layers.put(Phase.ENCODE, encodeLayers);
                d.layers.put(Phase.DECODE, decodeLayers);
                stage.devices.add(d);
            }
            stages.add(stage);
            if (spec.numEncodeLayers() > 0) chains.get(Phase.ENCODE).add(stage);
            if (spec.numDecodeLayers() > 0) chains.get(Phase.DECODE).add(stage);
        }
        int s = 0;
        for (Stage stage : stages) {
            if (inline) break;
            for (Device d : stage.devices) {
                Thread t = new Thread(d, "device-s" + s + "-r" + d.rank);
                t.setDaemon(true);
                t.start();
                threads.add(t);
            }
            s++;
        }
    }

    /** Stages that run this phase, in order. */
    int numStages(Phase phase) {
        return chains.get(phase).size();
    }

    int numStages() {
        return stages.size();
    }

    /** Bytes of layer weights held by each device, in stage order. */
    List<Long> weightBytesPerDevice() {
        List<Long> bytes = new ArrayList<>();
        for (Stage st : stages) for (Device d : st.devices) bytes.add(d.weightBytes);
        return bytes;
    }

    /** Whether the one device runs its layers on the caller's thread (see {@link #runInline}). */
    boolean inline() {
        return inline;
    }

    /**
     * The layers of the phase over x on the caller's thread, for a layout of one device: no task, no future, no
     * wrapper (a steady-state step allocates nothing); returns x, which holds the final activations.
     */
    Ops.Act runInline(Phase phase, StepBatch batch, Ops.Act x) {
        if (!inline) throw new IllegalStateException("this layout runs its layers on device threads");
        Device d = stages.get(0).devices.get(0);
        List<Layer> layers = d.layers.get(phase);
        if (layers.isEmpty()) {
            throw new IllegalStateException("this engine's layout has no stage for the " + phase + " phase");
        }
        d.ops.endStep();                                            // the previous task's activations are dead
        for (int i = 0; i < layers.size(); i++) layers.get(i).forward(batch, x);
        return x;
    }

    /** Starts a micro-batch through the chain of its phase; its future completes with the final activations. */
    Work submit(Phase phase, StepBatch batch, float[] x) {
        Work w = new Work(phase, batch, x);
        List<Stage> chain = chains.get(phase);
        if (chain.isEmpty()) {
            throw new IllegalStateException("this engine's layout has no stage for the " + phase + " phase");
        }
        chain.get(0).submit(w);
        return w;
    }

    private void advance(Work w) {
        List<Stage> chain = chains.get(w.phase);
        w.chainIndex++;
        if (w.chainIndex == chain.size()) w.done.complete(w.x);
        else chain.get(w.chainIndex).submit(w);
    }

    @Override
    public void close() {
        for (Stage st : stages) for (Device d : st.devices) d.inbox.add(Boolean.FALSE);
        for (Thread t : threads) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (Stage st : stages) for (Device d : st.devices) d.ops.close();
    }
}
