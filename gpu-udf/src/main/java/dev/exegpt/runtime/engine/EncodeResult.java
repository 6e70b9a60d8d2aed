package dev.exegpt.runtime.engine;

import java.util.List;
import java.util.Map;

/**
 * What {@link Engine#encode} did with a batch: the admitted sequences, in request order, ready for decode (an OPT
 * sequence already carries its first token from the prefill), and the rejected requests with the reason.
 */
public record EncodeResult(List<Sequence> admitted, Map<String, RuntimeException> rejected) {}
