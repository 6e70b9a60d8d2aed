package dev.exegpt.scheduler.avro;

import dev.exegpt.schemas.Profile;
import dev.exegpt.schemas.ProfileEntry;
import dev.exegpt.schemas.ProfileOperation;
import dev.exegpt.schemas.ProfilePhase;
import dev.exegpt.scheduler.cost.ModelSpec;
import dev.exegpt.scheduler.cost.Phase;
import dev.exegpt.scheduler.cost.ProfilePoint;
import dev.exegpt.scheduler.cost.ProfilePoint.Operation;
import dev.exegpt.scheduler.cost.ProfileTable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Avro {@code Profile} (XProfiler's output) to and from the scheduler's {@link ProfileTable}. */
public final class ProfileCodec {
    private ProfileCodec() {}

    public static ProfileTable read(Path json) {
        return toTable(readProfile(json));
    }

    /** The Avro record itself, every field kept (to rewrite it: {@code ProfileScaling.scaled}, {@link #toJson}). */
    public static Profile readProfile(Path json) {
        return AvroJson.read(AvroJson.readFile(json), Profile.class, Profile.getClassSchema(), json.toString());
    }

    public static String toJson(Profile profile) {
        return AvroJson.write(profile);
    }

    public static ProfileTable toTable(Profile p) {
        String arch = p.getArchitecture().toLowerCase(Locale.ROOT);
        boolean encDec = arch.equals("t5") || p.getNumEncoderLayers() > 0;
        ModelSpec m = new ModelSpec(p.getModelName(), encDec, encDec ? p.getNumEncoderLayers() : 0, p.getNumDecoderLayers(),
                p.getHiddenSize(), p.getNumHeads(), p.getHeadDim(), p.getFfnSize(), p.getVocabSize(), arch.equals("llama"),
                numKvHeads(p));
        List<ProfilePoint> points = new ArrayList<>();
        for (ProfileEntry e : p.getEntries()) {
            if (e.getOperation() == ProfileOperation.UNKNOWN) continue;
            Phase phase = e.getPhase() == ProfilePhase.ENCODE ? Phase.ENCODE : Phase.DECODE;
            points.add(new ProfilePoint(phase, Operation.valueOf(e.getOperation().name()), e.getBatchSize(),
                    e.getSeqLength(), e.getNumTokens(), e.getTpDegree(), e.getNumBytes(), e.getMedianMs()));
        }
        if (points.isEmpty()) {
            throw new IllegalArgumentException("profile of %s has no entries".formatted(p.getModelName()));
        }
        return new ProfileTable(m, p.getDeviceName(), p.getDeviceMemoryBytes(), points);
    }

    /**
     * Key/value heads of the profiled model: for the Llama family (grouped-query attention) from its KV bytes per
     * token and layer, which XProfiler writes for f32 keys and values (2 x 4 bytes x kvHeads x headDim); the heads
     * otherwise (T5 and OPT have as many key/value heads as query heads).
     */
    static int numKvHeads(Profile p) {
        long perHead = 2L * Float.BYTES * p.getHeadDim();
        long kv = p.getKvBytesPerTokenPerLayer() / perHead;
        boolean llama = p.getArchitecture().equalsIgnoreCase("llama");
        if (llama && kv > 0 && kv * perHead == p.getKvBytesPerTokenPerLayer() && p.getNumHeads() % kv == 0) {
            return (int) kv;
        }
        return p.getNumHeads();
    }

    public static Profile fromTable(ProfileTable t, String backend) {
        ModelSpec m = t.model();
        List<ProfileEntry> entries = new ArrayList<>();
        for (ProfilePoint pt : t.points()) {
            entries.add(ProfileEntry.newBuilder()
                    .setPhase(pt.phase() == Phase.ENCODE ? ProfilePhase.ENCODE : ProfilePhase.DECODE)
                    .setOperation(ProfileOperation.valueOf(pt.operation().name()))
                    .setBatchSize(pt.batchSize()).setSeqLength(pt.seqLength()).setNumTokens(pt.numTokens())
                    .setTpDegree(pt.tpDegree()).setNumBytes(pt.numBytes()).setMedianMs(pt.medianMs())
                    .setMinMs(pt.medianMs()).setMaxMs(pt.medianMs()).build());
        }
        return Profile.newBuilder().setModelName(m.name()).setArchitecture(m.encoderDecoder() ? "t5" : "opt")
                .setBackend(backend).setDeviceName(t.deviceName()).setCreatedEpochMs(0)
                .setNumEncoderLayers(m.numEncoderLayers()).setNumDecoderLayers(m.numDecoderLayers())
                .setHiddenSize(m.hiddenSize()).setNumHeads(m.numHeads()).setHeadDim(m.headDim()).setFfnSize(m.ffnSize())
                .setVocabSize(m.vocabSize()).setMaxPositions(0)
                .setWeightBytesPerEncoderLayer(m.paramsPerEncoderLayer() * ModelSpec.BYTES_PER_PARAM)
                .setWeightBytesPerDecoderLayer(m.paramsPerDecoderLayer() * ModelSpec.BYTES_PER_PARAM)
                .setWeightBytesOther(m.paramsOther() * ModelSpec.BYTES_PER_PARAM)
                .setKvBytesPerTokenPerLayer(m.kvBytesPerTokenPerLayer()).setDeviceMemoryBytes(t.deviceMemoryBytes())
                .setEntries(entries).build();
    }
}
