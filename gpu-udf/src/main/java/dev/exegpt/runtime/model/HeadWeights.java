package dev.exegpt.runtime.model;

import dev.exegpt.runtime.weights.Tensor;

/**
 * What a family hands the {@link ModelHead}: the parts of a model outside the layer stack.
 *
 * @param embedding (vocab, dModel) token embeddings
 * @param positions (maxPositions + positionOffset, dModel) learned positions added at embedding (OPT); null for none
 * @param positionOffset rows of positions before position 0 (OPT: 2)
 * @param encoderNorm (dModel) final RMS norm of the encoder (T5); null for decoder-only families
 * @param finalNorm the decoder's final norm
 * @param lmHead (vocab, dModel) the LM head (the embedding tensor itself when tied), in its stored width
 * @param lmScale factor on the normed hidden state before the head (T5 with tied embeddings: dModel^-0.5)
 */
public record HeadWeights(float[] embedding, float[] positions, int positionOffset, float[] encoderNorm,
                          Norm finalNorm, Tensor lmHead, float lmScale) {}
