#!/usr/bin/env bash
# Reproduce the exposure-aware model (weights/lol-v1-exposure.safetensors) from the shipped
# default (src/lowlight/pretrained/default.safetensors) on CPU, in four steps (about 4 h on
# 2 cores in all):
#   1. configs/lol-v1-exposure.yaml           40 epochs: the tone split learnt on pairs,
#                                             synthetic exposures and identity pairs
#   2. configs/lol-v1-exposure-more.yaml      40 epochs: lower learning rates, more identity
#   3. configs/lol-v1-exposure-identity.yaml  20 epochs: synthetic exposures only well under,
#                                             so well-exposed pictures are left alone
#   4. configs/lol-v1-exposure-full.yaml      40 epochs of half the items at full size, where
#                                             steps 1 to 3 saw every second pixel
# Each step starts from the previous step's last weights. The result is
# RUNS/lol-v1-exposure-full/last.safetensors. Rerunning continues a killed step.
#
#   scripts/train_exposure_model.sh PATH/lol-v1/train [RUNS]
set -euo pipefail

data=$(realpath "${1:?usage: scripts/train_exposure_model.sh PATH/lol-v1/train [RUNS]}")
runs=$(realpath -m "${2:-runs}")
cd "$(dirname "$0")/.."

step() {  # step NAME [OPTIONS...]: train configs/NAME.yaml into RUNS/NAME, resuming if begun
    local out="$runs/$1"
    if [[ -f "$out/last.pt" ]]; then
        lowlight train --out "$out" --resume
    else
        lowlight train --config "configs/$1.yaml" --data "$data" --out "$out" "${@:2}"
    fi
}

step lol-v1-exposure
step lol-v1-exposure-more --init-weights "$runs/lol-v1-exposure/last.safetensors"
step lol-v1-exposure-identity --init-weights "$runs/lol-v1-exposure-more/last.safetensors"
step lol-v1-exposure-full --init-weights "$runs/lol-v1-exposure-identity/last.safetensors"
echo "exposure-aware model: $runs/lol-v1-exposure-full/last.safetensors"
