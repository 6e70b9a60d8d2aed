package dev.exegpt.job.bench;

import java.util.ArrayList;
import java.util.List;

import dev.exegpt.schemas.InferenceResult;

/**
 * A peer outside the job in the bench (Hugging Face transformers' generate()): the same requests at the same offsets,
 * measured on the bench's clock, in the bench's table and ratios, but with no schedule and no simulator's prediction.
 */
public final class PeerArm {
    public final String name;
    public final TransformersPeer runner;
    public final java.nio.file.Path model;
    public final String source;
    public final int batch;
    public final int threads;
    public final List<TransformersPeer.SweepPoint> sweep;
    public final List<List<InferenceResult>> rounds = new ArrayList<>();
    public BenchFigures measured;

    public PeerArm(String name, TransformersPeer runner, java.nio.file.Path model, int batch, int threads,
                   List<TransformersPeer.SweepPoint> sweep) {
        this.name = name;
        this.runner = runner;
        this.model = model;
        this.source = runner.source();
        this.batch = batch;
        this.threads = threads;
        this.sweep = List.copyOf(sweep);
    }

    public String label() {
        return name + " B=" + batch;
    }

    /** The label with what ran, as the table shows it. */
    public String tableLabel() {
        return label() + " ran " + TransformersPeer.layout(batch, threads) + " (" + source + ")";
    }
}
