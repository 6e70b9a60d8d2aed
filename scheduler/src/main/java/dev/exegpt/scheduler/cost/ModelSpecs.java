package dev.exegpt.scheduler.cost;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The paper's six models (its Table 1, PAPER.md §12.2), by name. FFN = 4 x hidden for OPT and GPT-3. */
public final class ModelSpecs {
    private static final Map<String, ModelSpec> BY_NAME = new LinkedHashMap<>();

    static {
        // T5-11B: d_model 1024, 128 heads x 128 = 16384-wide attention, FFN 65536, 24 + 24 layers (Raffel et al.).
        add(new ModelSpec("t5-11b", true, 24, 24, 1024, 128, 128, 65536, 32128, false));
        add(new ModelSpec("opt-13b", false, 0, 40, 5120, 40, 128, 20480, 50272, false));
        add(new ModelSpec("gpt3-39b", false, 0, 48, 8192, 64, 128, 32768, 50257, false));
        add(new ModelSpec("gpt3-101b", false, 0, 80, 10240, 80, 128, 40960, 50257, false));
        add(new ModelSpec("gpt3-175b", false, 0, 96, 12288, 96, 128, 49152, 50257, false));
        add(new ModelSpec("gpt3-341b", false, 0, 120, 15360, 120, 128, 61440, 50257, false));
        // The model the A100 calibration data was measured on (vidur): used only to check the roofline.
        add(new ModelSpec("llama2-7b", false, 0, 32, 4096, 32, 128, 11008, 32000, true));
    }

    private ModelSpecs() {}

    private static void add(ModelSpec m) {
        BY_NAME.put(m.name(), m);
    }

    public static List<String> names() {
        return List.copyOf(BY_NAME.keySet());
    }

    public static ModelSpec byName(String name) {
        ModelSpec m = BY_NAME.get(name.trim().toLowerCase(java.util.Locale.ROOT));
        if (m == null) {
            throw new IllegalArgumentException("unknown model spec '%s': expected one of %s".formatted(name, names()));
        }
        return m;
    }
}
