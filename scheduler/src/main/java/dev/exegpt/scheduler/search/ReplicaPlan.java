package dev.exegpt.scheduler.search;

import static dev.exegpt.scheduler.Require.require;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import dev.exegpt.scheduler.cost.ModelSpec;
import dev.exegpt.scheduler.sim.Estimate;
import dev.exegpt.scheduler.workload.Workload;

/**
 * Data-parallel replicas of one planned device group, on paper: the throughput scales by the number of replicas
 * (replicas share nothing but the Kafka topics), and this works out what the rest of the system must then carry at
 * the planned saturation rate: requests and bytes per Kafka partition, the KV hand-off between encoder and decoder
 * groups under WAA (which crosses TaskManagers, so the host NIC), and the Flink checkpoint (the executors' in-flight
 * requests and the deduplication ids). Each resource gets the rate at which it would saturate; the lowest is the part
 * that saturates first.
 *
 * @param perReplica        the plan of one device group (XScheduler's best schedule)
 * @param model             the model's shape (KV bytes per token)
 * @param workload          the task's length distributions (mean input and output tokens)
 * @param devicesPerNode    devices per machine (one TaskManager per machine)
 * @param numReplicas       data-parallel replicas
 * @param numPartitions     partitions of the requests topic (and of the results topic)
 * @param limits            what the other parts can carry (assumptions, stated with the figures)
 */
public record ReplicaPlan(Estimate perReplica, ModelSpec model, Workload workload, int devicesPerNode, int numReplicas,
                          int numPartitions, Limits limits) {

    /**
     * What the parts around the GPUs carry, as assumptions to state next to the figures.
     *
     * @param partitionBytesPerSecond  what one Kafka partition sustains (writes, replicated), bytes/s
     * @param nicBytesPerSecond        one TaskManager's network interface for Flink's data exchange, bytes/s
     * @param checkpointBytesPerSecond what the checkpoint storage absorbs, all TaskManagers together, bytes/s
     * @param checkpointIntervalMs     interval of (full) checkpoints, ms
     * @param dedupRememberMs          how long request ids are kept for deduplication, ms
     * @param dedupEntryBytes          state bytes per remembered id (key, timestamp, TTL, map entry)
     * @param promptBytesPerToken      request bytes per prompt token (UTF-8 text plus its token ids)
     * @param resultBytesPerToken      result bytes per output token (token id plus text)
     * @param recordOverheadBytes      fixed bytes per request or result (id, fields, latency breakdown, Kafka headers)
     */
    public record Limits(double partitionBytesPerSecond, double nicBytesPerSecond, double checkpointBytesPerSecond,
                         long checkpointIntervalMs, long dedupRememberMs, int dedupEntryBytes, double promptBytesPerToken,
                         double resultBytesPerToken, int recordOverheadBytes) {
        public Limits {
            require(partitionBytesPerSecond > 0 && nicBytesPerSecond > 0 && checkpointBytesPerSecond > 0,
                    "bandwidths must be > 0, got %s, %s, %s", partitionBytesPerSecond, nicBytesPerSecond, checkpointBytesPerSecond);
            require(checkpointIntervalMs > 0 && dedupRememberMs >= 0, "checkpointIntervalMs must be > 0 and dedupRememberMs >= 0");
        }

        /**
         * Defaults: 10 MB/s per partition (a conservative planning figure for replicated, acknowledged writes),
         * 100 Gb/s Ethernet per TaskManager (Flink's Netty shuffle goes through the host NIC, not GPUDirect), 2 GB/s of
         * checkpoint storage, the job's 2 s checkpoints and 1 h deduplication (flink-conf), ~100 bytes per id on the
         * heap state backend, ~8 bytes per token of text plus id.
         */
        public static final Limits DEFAULTS = new Limits(10e6, 12.5e9, 2e9, 2_000, 3_600_000, 100, 8, 8, 300);
    }

    /** One part of the system at the planned rate: its load, its limit, and the request rate at which it saturates. */
    public record Load(String part, double used, double limit, String unit, double saturatesAtRequestsPerSecond) {
        public double utilisation() {
            return used / limit;
        }
    }

    public ReplicaPlan {
        require(numReplicas >= 1, "numReplicas must be >= 1, got %s", numReplicas);
        require(numPartitions >= 1, "numPartitions must be >= 1, got %s", numPartitions);
        require(perReplica.feasible(), "the replica's plan must be feasible: %s", perReplica.infeasibleReason());
    }

    public int numDevicesPerReplica() {
        return perReplica.candidate().numDevices();
    }

    public int numDevices() {
        return numReplicas * numDevicesPerReplica();
    }

    public double requestsPerSecond() {
        return numReplicas * perReplica.sequencesPerSecond();
    }

    public double tokensPerSecond() {
        return numReplicas * perReplica.tokensPerSecond();
    }

    public double partitionsPerReplica() {
        return (double) numPartitions / numReplicas;
    }

    public double requestBytes() {
        return limits.recordOverheadBytes() + limits.promptBytesPerToken() * workload.meanInputTokens();
    }

    public double resultBytes() {
        return limits.recordOverheadBytes() + limits.resultBytesPerToken() * workload.meanOutputTokens();
    }

    /** Bytes one partition carries per second, requests in and results out (the larger of the two topics). */
    public double partitionBytesPerSecond() {
        return requestsPerSecond() / numPartitions * Math.max(requestBytes(), resultBytes());
    }

    /** Whether encoder and decoder run on different devices (WAA), so that each request's KV is handed over. */
    public boolean handsOverKv() {
        return perReplica.numEncoderDevices() > 0;
    }

    /** KV bytes handed from the encoder group to the decoder group per request: every decoder layer's keys and values of the prompt. */
    public double kvHandoffBytesPerRequest() {
        return handsOverKv() ? (double) model.numDecoderLayers() * model.kvBytesPerTokenPerLayer() * workload.meanInputTokens() : 0;
    }

    /**
     * Hand-off bytes one TaskManager's NIC carries per second, taking every hand-off across TaskManagers (the encoder
     * and decoder operators are scheduled independently): the replicas a machine hosts, times their rate.
     */
    public double nicBytesPerSecond() {
        double replicasPerNode = Math.max(1.0, (double) devicesPerNode / numDevicesPerReplica());
        return replicasPerNode * perReplica.sequencesPerSecond() * kvHandoffBytesPerRequest();
    }

    /** Requests one executor holds at once: the async operator's capacity (job's PipelineSettings.asyncCapacity). */
    public int inFlightPerReplica() {
        return dev.exegpt.scheduler.plan.PolicyRegistry.requestsHeld(perReplica.candidate().encodeBatchSize(),
                perReplica.decodeBatchSize(), 0);
    }

    /** Checkpointed in-flight requests, all replicas (the async operators' queues; KV caches are not checkpointed). */
    public double inFlightStateBytes() {
        return (double) numReplicas * inFlightPerReplica() * requestBytes();
    }

    /** Request ids remembered for deduplication, all replicas: rate x remember time x bytes per id. */
    public double dedupStateBytes() {
        return requestsPerSecond() * limits.dedupRememberMs() / 1000.0 * limits.dedupEntryBytes();
    }

    public double checkpointBytes() {
        return inFlightStateBytes() + dedupStateBytes();
    }

    /** What full checkpoints at the configured interval write per second. */
    public double checkpointBytesPerSecond() {
        return checkpointBytes() / (limits.checkpointIntervalMs() / 1000.0);
    }

    /** Each part's load at the planned rate and the request rate at which it saturates, tightest first. */
    public List<Load> loads() {
        double rate = requestsPerSecond();
        List<Load> loads = new ArrayList<>();
        loads.add(new Load("GPUs (the plan's saturation throughput)", rate, rate, "requests/s", rate));
        double partition = partitionBytesPerSecond();
        loads.add(new Load("Kafka partition", partition, limits.partitionBytesPerSecond(), "bytes/s",
                rate * limits.partitionBytesPerSecond() / partition));
        if (handsOverKv()) {
            double nic = nicBytesPerSecond();
            loads.add(new Load("TaskManager NIC (WAA KV hand-off)", nic, limits.nicBytesPerSecond(), "bytes/s",
                    rate * limits.nicBytesPerSecond() / nic));
        }
        // The in-flight part does not grow with the rate; the deduplication part does.
        double dedupPerRequest = dedupStateBytes() / rate / (limits.checkpointIntervalMs() / 1000.0);
        double inFlightPerSecond = inFlightStateBytes() / (limits.checkpointIntervalMs() / 1000.0);
        double checkpointLimitRate = dedupPerRequest > 0
                ? Math.max(0, (limits.checkpointBytesPerSecond() - inFlightPerSecond) / dedupPerRequest) : Double.POSITIVE_INFINITY;
        loads.add(new Load("checkpoint storage (full checkpoints)", checkpointBytesPerSecond(), limits.checkpointBytesPerSecond(),
                "bytes/s", checkpointLimitRate));
        loads.sort(Comparator.comparingDouble(Load::saturatesAtRequestsPerSecond));
        return loads;
    }

    /** The part that saturates first as the offered rate grows. */
    public Load firstToSaturate() {
        return loads().get(0);
    }

}
