#!/bin/bash
# catvae's checks on a lent GPU machine (one NVIDIA H200, CUDA driver with Vulkan, PyTorch on CUDA, no Node,
# no network). Runs from the project root with .device/ carried (bench/gpu/make_bundle.sh builds it).
# Each stage has its own time limit and leaves its output in $OUT/<stage>.txt; $OUT/log.txt is the timeline.
# At most 8 files come back: 7 stages + log.txt. Stage limits add up to 560 s, inside one 600 s call.
# Without a GPU (to test the script here) the GPU stages fail fast or run on lavapipe; CATVAE_GPU_QUICK=1
# shrinks every stage to a smoke test.
set -u
OUT=${OUT:?set OUT to a folder for the results}
T0=$(date +%s); say() { echo "[$(( $(date +%s) - T0 ))s] $*" | tee -a "$OUT/log.txt"; }
DEV=$PWD/.device
QUICK=${CATVAE_GPU_QUICK:-0}
if ! command -v node >/dev/null; then
  for f in "$DEV"/gl/*.deb; do dpkg -x "$f" /; done; ldconfig          # the Vulkan loader (libvulkan.so.1)
  mkdir -p /tmp/n && xz -dc "$DEV/node.xz" >/tmp/n/node && chmod +x /tmp/n/node && export PATH=/tmp/n:$PATH
fi
ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; [ -f $ICD ] && export VK_DRIVER_FILES=$ICD
WORK=${CATVAE_GPU_WORK:-/tmp}
mkdir -p "$WORK" && rm -rf "$WORK/catvae" && tar -xJf "$DEV/catvae.tar.xz" -C "$WORK" && cd "$WORK/catvae" || exit 1
say "node $(node -v); $(nvidia-smi -L 2>&1 | head -1); Vulkan ICD: ${VK_DRIVER_FILES:-system default}; quick=$QUICK"
stage() { local name=$1 t=$2; shift 2; say "start $name"; timeout -s INT -k 10 "$t" "$@" >"$OUT/$name.txt" 2>&1; say "end $name rc=$?"; tail -3 "$OUT/$name.txt" | tee -a "$OUT/log.txt"; }
q() { [ "$QUICK" = 1 ] && echo "$1" || echo "$2"; }
# --- STAGES (npm is not there: node --import tsx directly) ---
# 1. the doctor lists the GPU (WebGPU adapter, nvidia-smi) and exits 0
stage doctor 40 node --import tsx scripts/doctor.ts
# 2. the webgpu tests on the hardware adapter (the auto test then expects webgpu, not wasm)
stage webgpu_tests 90 node --import tsx --test test/webgpu.test.ts test/webgpu_kernels.test.ts test/webgpu_training.test.ts test/webgpu_cli.test.ts test/philox_noise.test.ts test/evaluate_reads.test.ts
# 3. dispatches, uploads, reads and ms per step: kernels off (the code before the WGSL kernels) and on, noise sfc32 (host) and philox (GPU)
stage webgpu_step 50 bash -c "for b in 100 1000; do node --import tsx bench/webgpu_step.ts --compare --batch \$b --rounds $(q 1 2) --steps $(q 2 100) --warmup $(q 1 10) --json; done"
# 4. catvae bench on webgpu at batch 100 and 1000 (PyTorch CUDA is stage 5, in the same call)
stage bench_webgpu 60 node --import tsx scripts/bench.ts --backends webgpu --batch-size 100 1000 --seconds $(q 2 6) --warmup-seconds $(q 2 3) --torch false
# 5. the same VAE in PyTorch on CUDA, eager and torch.compile, batch 100 and 1000
stage torch_cuda 80 python3 "$DEV/torch_cuda_peer.py" --secs $(q 1 5)
# 6. the paper budget: 50,000 steps at batch 100 (Ctrl-C at the limit saves a checkpoint; log.txt says how far it got)
stage train_webgpu 200 node --import tsx scripts/train.ts --backend webgpu --steps $(q 100 50000) --no-progress --log-every $(q 50 5000) --json --out "$WORK/run1" $(q '--train-size 2000 --validation-size 500' '')
# 7. test -ELBO of the trained model on the full test set
stage evaluate_webgpu 40 node --import tsx scripts/evaluate.ts "$WORK/run1" --backend webgpu --iw-samples $(q 0 100) --json
say "done"
