#!/usr/bin/env bash
# Reproduce the default model (src/lowlight/pretrained/default.safetensors) on CPU:
# configs/real-photos.yaml from the exposure-aware model's weights
# (weights/lol-v1-exposure.safetensors, whose own recipe is scripts/train_exposure_model.sh).
# Rerunning continues a killed run from its last checkpoint (one every epoch, a few minutes).
#
#   scripts/train_default_model.sh PATH/lol-v1/train [RUN] [THREADS]
#
# The config's photo folders are read relative to the repository: Kodak from the project's
# data (../shared/data/well-exposed/kodak) and BSDS500's 500 photos in ../cache/bsds500 (the
# files of BIDS/BSDS500's BSDS500/data/images/{train,val,test} in one folder). THREADS
# (default 1) is the PyTorch threads: on a 2-core machine shared with other work, 1 thread
# keeps most of its speed while 2 stall each other.
set -euo pipefail

data=$(realpath "${1:?usage: scripts/train_default_model.sh PATH/lol-v1/train [RUN] [THREADS]}")
run=$(realpath -m "${2:-runs/real-photos}")
threads=${3:-1}
cd "$(dirname "$0")/.."

if [[ -f "$run/last.pt" ]]; then
    lowlight train --out "$run" --resume --threads "$threads"
else
    lowlight train --config configs/real-photos.yaml --data "$data" --out "$run" \
        --threads "$threads"
fi
echo "default model: $run/last.safetensors"
