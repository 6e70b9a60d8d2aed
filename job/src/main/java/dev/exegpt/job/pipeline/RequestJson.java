package dev.exegpt.job.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.exegpt.schemas.InferenceRequest;

/**
 * One line of a requests JSON-lines file as an {@link InferenceRequest}. The line is a plain JSON object whose
 * fields carry the schema's names ({@code requestId, task, promptText, promptTokenIds, maxNewTokens, ignoreEos,
 * sloLatencyMs, deadlineEpochMs, clientSentEpochMs, metadata}); {@code prompt} is accepted for {@code promptText}.
 * Only the shape is checked here (a field of the wrong JSON type, a missing required field, an unknown field):
 * whether the values make sense (a positive max, a known task) is the job's validation, which answers bad values
 * with a dead letter, so a file can carry deliberately bad requests for testing.
 */
public final class RequestJson {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> FIELDS = Set.of("requestId", "task", "prompt", "promptText", "promptTokenIds",
            "maxNewTokens", "ignoreEos", "sloLatencyMs", "deadlineEpochMs", "clientSentEpochMs", "metadata");

    private RequestJson() {}

    /** Parses one line; throws {@link IllegalArgumentException} naming the field and what was expected. */
    public static InferenceRequest parse(String line) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("expected a JSON object, got " + (node == null ? "nothing" : node.getNodeType()));
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                throw new IllegalArgumentException("unknown field \"" + name + "\": expected one of " + FIELDS);
            }
        }
        InferenceRequest.Builder request = InferenceRequest.newBuilder()
                .setRequestId(requiredText(node, "requestId"))
                .setTask(requiredText(node, "task"))
                .setMaxNewTokens(requiredInt(node, "maxNewTokens"));
        String prompt = optionalText(node, node.has("promptText") ? "promptText" : "prompt");
        request.setPromptText(prompt);
        request.setPromptTokenIds(optionalIntArray(node, "promptTokenIds"));
        if (node.has("ignoreEos")) {
            JsonNode value = node.get("ignoreEos");
            if (!value.isBoolean()) {
                throw wrongType("ignoreEos", "true or false", value);
            }
            request.setIgnoreEos(value.booleanValue());
        }
        request.setSloLatencyMs(optionalLong(node, "sloLatencyMs"));
        request.setDeadlineEpochMs(optionalLong(node, "deadlineEpochMs"));
        request.setClientSentEpochMs(optionalLong(node, "clientSentEpochMs"));
        request.setMetadata(optionalStringMap(node, "metadata"));
        return request.build();
    }

    /**
     * The request as one line that {@link #parse} reads back to an equal request: the fields it has, by the schema's
     * names (an absent optional field is left out; metadata only when it has entries).
     */
    public static String format(InferenceRequest r) {
        com.fasterxml.jackson.databind.node.ObjectNode node = JSON.createObjectNode();
        node.put("requestId", r.getRequestId());
        node.put("task", r.getTask());
        if (r.getPromptText() != null) node.put("promptText", r.getPromptText());
        if (r.getPromptTokenIds() != null) {
            com.fasterxml.jackson.databind.node.ArrayNode ids = node.putArray("promptTokenIds");
            r.getPromptTokenIds().forEach(ids::add);
        }
        node.put("maxNewTokens", r.getMaxNewTokens());
        node.put("ignoreEos", r.getIgnoreEos());
        if (r.getSloLatencyMs() != null) node.put("sloLatencyMs", r.getSloLatencyMs());
        if (r.getDeadlineEpochMs() != null) node.put("deadlineEpochMs", r.getDeadlineEpochMs());
        if (r.getClientSentEpochMs() != null) node.put("clientSentEpochMs", r.getClientSentEpochMs());
        if (r.getMetadata() != null && !r.getMetadata().isEmpty()) {
            com.fasterxml.jackson.databind.node.ObjectNode metadata = node.putObject("metadata");
            r.getMetadata().forEach((k, v) -> metadata.put(k.toString(), v.toString()));
        }
        return node.toString();
    }

    private static String requiredText(JsonNode node, String field) {
        String value = optionalText(node, field);
        if (value == null) {
            throw new IllegalArgumentException("missing required field \"" + field + "\" (a string)");
        }
        return value;
    }

    private static String optionalText(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw wrongType(field, "a string", value);
        }
        return value.textValue();
    }

    private static int requiredInt(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw new IllegalArgumentException("missing required field \"" + field + "\" (an integer)");
        }
        if (!value.isInt()) {
            throw wrongType(field, "a 32-bit integer", value);
        }
        return value.intValue();
    }

    private static Long optionalLong(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            throw wrongType(field, "an integer", value);
        }
        return value.longValue();
    }

    private static List<Integer> optionalIntArray(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isArray()) {
            throw wrongType(field, "an array of integers", value);
        }
        List<Integer> ids = new ArrayList<>(value.size());
        for (JsonNode id : value) {
            if (!id.isInt()) {
                throw wrongType(field + "[" + ids.size() + "]", "a 32-bit integer", id);
            }
            ids.add(id.intValue());
        }
        return ids;
    }

    private static Map<String, String> optionalStringMap(JsonNode node, String field) {
        Map<String, String> map = new LinkedHashMap<>();
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return map;
        }
        if (!value.isObject()) {
            throw wrongType(field, "an object of strings", value);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            if (!entry.getValue().isTextual()) {
                throw wrongType(field + "." + entry.getKey(), "a string", entry.getValue());
            }
            map.put(entry.getKey(), entry.getValue().textValue());
        }
        return map;
    }

    private static IllegalArgumentException wrongType(String field, String expected, JsonNode got) {
        String shown = got.toString();
        if (shown.length() > 40) {
            shown = shown.substring(0, 37) + "...";
        }
        return new IllegalArgumentException("field \"" + field + "\": expected " + expected + ", got " + shown);
    }
}
