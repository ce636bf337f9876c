#!/usr/bin/env bash
# gpu-discovery.sh: Spark's GPU discovery script for QDM executors
# (spark.executor.resource.gpu.discoveryScript, see conf/spark-gpu.conf; also usable as
# spark.worker.resource.gpu.discoveryScript on standalone workers). Prints the GPUs this
# process may use as Spark's resource JSON:
#   {"name": "gpu", "addresses": ["0", "1"]}
# Addresses are the CUDA device ordinals a task passes to DJL (Device.gpu(N)): with
# CUDA_VISIBLE_DEVICES set (YARN and Kubernetes GPU isolation, docker --gpus) the visible GPUs
# are renumbered 0..n-1 inside the process, so those are printed; otherwise nvidia-smi's indices.
set -euo pipefail

addresses=()
if [[ -n "${CUDA_VISIBLE_DEVICES:-}" && "${CUDA_VISIBLE_DEVICES}" != "NoDevFiles" ]]; then
  IFS=',' read -r -a visible <<< "$CUDA_VISIBLE_DEVICES"
  for ((i = 0; i < ${#visible[@]}; i++)); do
    addresses+=("$i")
  done
else
  if ! command -v nvidia-smi > /dev/null 2>&1; then
    echo "gpu-discovery.sh: nvidia-smi not found on $(hostname): no NVIDIA driver on this host," \
      "or it is not on the PATH of the Spark executor" >&2
    exit 1
  fi
  while read -r index; do
    index="${index//[[:space:]]/}"
    [[ -n "$index" ]] && addresses+=("$index")
  done < <(nvidia-smi --query-gpu=index --format=csv,noheader,nounits)
fi
if [[ ${#addresses[@]} -eq 0 ]]; then
  echo "gpu-discovery.sh: no GPU found on $(hostname)" >&2
  exit 1
fi

json=""
for a in "${addresses[@]}"; do
  json+="${json:+, }\"$a\""
done
printf '{"name": "gpu", "addresses": [%s]}\n' "$json"
