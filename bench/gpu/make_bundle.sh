#!/bin/bash
# Builds .device/ in the project root: what a GPU machine needs to run catvae, under the 64 MiB carry limit.
# The GPU machine has no Node and reaches no registry, so we carry: node itself (xz, ~24 MB) and the project
# with a slimmed node_modules that includes the WebGPU packages (tar.xz, ~26 MB), plus the Vulkan loader debs.
# Usage, from the project root:  bash bench/gpu/make_bundle.sh     (then: run with carry [".device"]; see bench/gpu/README.md)
# (a copy of the device kit's make_bundle.sh: it packs bench/gpu/gpu_check.sh and torch_cuda_peer.py from beside it)
set -euo pipefail
ROOT=$(pwd); KIT=$(cd "$(dirname "$0")" && pwd); DEV=$ROOT/.device
EXCLUDE=$(git rev-parse --git-path info/exclude); mkdir -p "$(dirname "$EXCLUDE")"   # a worktree's .git is a file
grep -qxF '/.device/' "$EXCLUDE" 2>/dev/null || echo '/.device/' >> "$EXCLUDE"
rm -rf "$DEV" && mkdir -p "$DEV/gl"
TMP=$(mktemp -d); git clone -q "$ROOT" "$TMP/catvae"
# uncommitted work too: copy the working tree's tracked and untracked (not ignored) files over the clone
git ls-files -co --exclude-standard -z | (cd "$ROOT" && xargs -0 tar cf -) | tar xf - -C "$TMP/catvae"
( cd "$TMP/catvae" && npm ci --no-audit --no-fund >/dev/null 2>&1 &&
  npm install --no-audit --no-fund --no-save webgpu @tensorflow/tfjs-backend-webgpu@4.22.0 >/dev/null 2>&1 )
NM=$TMP/catvae/node_modules
rm -rf "$NM"/webgpu/dist/{darwin-universal,linux-arm64,win32-arm64,win32-x64} "$NM"/typescript "$NM"/@typescript
find "$NM" -name '*.map' -delete
find "$NM"/@tensorflow -maxdepth 3 -path '*/dist/*' \( -name '*.min.js' -o -name '*.es2017.js' -o -name '*.fesm*.js' -o -name '*.esm.js' \) -delete
rm -rf "$TMP/catvae/.git" "$TMP/catvae/checkpoints"/*
tar -C "$TMP" -cf - catvae | xz -T0 -6 > "$DEV/catvae.tar.xz"
xz -T0 -6 -c "$(readlink -f "$(command -v node)")" > "$DEV/node.xz"
cp "$KIT"/gpu_check.sh "$KIT"/torch_cuda_peer.py "$DEV/"
( cd "$DEV/gl" && o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64-lists'
  mkdir -p /tmp/amd64-lists/partial && apt-get $o update >/dev/null 2>&1 && apt-get $o download libvulkan1 >/dev/null 2>&1 )
rm -rf "$TMP"; du -sh "$DEV"; ls -la "$DEV" "$DEV/gl"
