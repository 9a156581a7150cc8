#!/usr/bin/env bash
# Reproduce the shipped default model from the previous one (weights/lol-v1-phase8.safetensors)
# on CPU, in two steps of 40 half-size epochs (about 50 minutes each on 2 cores):
#   1. configs/lol-v1-exposure.yaml       the tone split learnt on pairs, synthetic exposures
#                                         and identity pairs
#   2. configs/lol-v1-exposure-more.yaml  lower learning rates, more identity pairs
# The result is RUNS/lol-v1-exposure-more/best.safetensors. Rerunning continues killed steps.
#
#   scripts/train_default.sh PATH/lol-v1/train [RUNS]
set -euo pipefail

data=$(realpath "${1:?usage: scripts/train_default.sh PATH/lol-v1/train [RUNS]}")
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
step lol-v1-exposure-more --init-weights "$runs/lol-v1-exposure/best.safetensors"
echo "default model: $runs/lol-v1-exposure-more/best.safetensors"
