#!/usr/bin/env bash
# GPU check for a machine with a GPU and no package registry: everything it runs is in this tree and its
# installed node_modules (the trainer's, and infra/trainer-gpu's for the GPU engine). One pretext training step per
# modality on the GPU engine, gradients compared with the CPU engine (wasm), samples/s of both; one JSON object on
# stdout, exit 1 when a comparison fails. Bounded to 8 minutes.
#   scripts/device-check.sh              # GPU engine vs wasm (needs a GPU with a Vulkan driver, or tfjs-node-gpu)
#   scripts/device-check.sh --cpu-only   # wasm vs the pure-JS cpu backend: every part except the GPU itself
#   scripts/device-check.sh --steps=20   # timed steps per engine and modality (default 10; 2 with --cpu-only)
# DEVICE_CHECK_TIMEOUT=<seconds> changes the 480 s bound (a busy shared CPU running the --cpu-only check).
set -euo pipefail
cd "$(dirname "$0")/.."
for dir in node_modules/tsx node_modules/@tensorflow/tfjs-backend-wasm; do
  [[ -d $dir ]] || { echo "device-check: $dir is missing; copy the tree with its installed node_modules (npm ci) first" >&2; exit 2; }
done
if [[ " $* " != *" --cpu-only "* && ! -d infra/trainer-gpu/node_modules/webgpu ]]; then
  echo "device-check: infra/trainer-gpu/node_modules is missing (npm ci there on a machine with the registry); the GPU engine cannot load" >&2
fi
exec timeout --kill-after=10 "${DEVICE_CHECK_TIMEOUT:-480}" node --import tsx scripts/device-check.ts "$@"
