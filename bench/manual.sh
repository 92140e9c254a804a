#!/usr/bin/env bash
# bench/manual.sh — the manual path archscan replaces, as a user would type it:
# extract the archive, extract every layer in order into one root (whiteouts are NOT
# applied: `tar` does not know them), then run `file` on every file with an exec bit.
#
# Usage: manual.sh ARCHIVE SCRATCH_DIR     (SCRATCH_DIR must not exist; it is left behind)
set -euo pipefail
archive=$1 scratch=$2
mkdir -p "$scratch/x" "$scratch/root"
tar -xf "$archive" -C "$scratch/x"
cd "$scratch/x"
if [ -f index.json ] && [ ! -f manifest.json ]; then
    # oci-archive: index.json -> manifest -> layer blobs
    m=$(jq -r '.manifests[0].digest' index.json | sed 's,:,/,')
    layers=$(jq -r '.layers[].digest' "blobs/$m" | sed 's,^,blobs/,; s,:,/,')
else
    layers=$(jq -r '.[0].Layers[]' manifest.json)
fi
for l in $layers; do
    # GNU tar detects gzip/zstd by magic when reading a file.
    tar -xf "$l" -C "$scratch/root" --no-same-owner 2>/dev/null || true
done
find "$scratch/root" -type f -perm /111 -print0 | xargs -0 -r file > /dev/null
