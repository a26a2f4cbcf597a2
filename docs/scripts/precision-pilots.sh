#!/bin/bash
# Issue 20's equal-step pilots: the same latent U-Net recipe (pilot P2 of docs/training.md: latent-xs, v-prediction,
# zero terminal SNR) trained to the same step in fp32 and in bf16 with two seeds each, every run exported and
# evaluated on val the same way. Run from the repository root:
#   KTRAIN=path/to/kneeonnx-train docs/scripts/precision-pilots.sh [STEPS]
set -u
KTRAIN=${KTRAIN:-kneeonnx-train}
DATA=${DATA:-../shared/data/kneeKL224}
AE=${AE:-models/kneeonnx-default}
P=${PILOTS:-../runs/precision-pilots}
STEPS=${1:-2000}
mkdir -p "$P"
for seed in 1 2; do
  for precision in bf16 fp32; do
    name=$precision-s$seed
    [ -f "$P/$name-eval/report.md" ] && { echo "=== $name already evaluated"; continue; }
    echo "=== $name $(date -u +%H:%M:%S)"
    nice -n 10 "$KTRAIN" train --autoencoder "$AE" --data "$DATA" --preset latent-xs --prediction v_prediction \
      --zero-terminal-snr --sides --batch 32 --lr 2e-4 --warmup 200 --steps 40000 --min-snr-gamma 5 --log-every 200 \
      --checkpoint-every 500 --seed "$seed" --precision "$precision" --stop-at-step "$STEPS" --out "$P/$name" \
      > "$P/$name.train.log" 2>&1 || { tail -3 "$P/$name.train.log"; exit 1; }
    tail -1 "$P/$name.train.log"
    mkdir -p "$P/$name-model/unet"
    nice -n 10 "$KTRAIN" export --checkpoint "$P/$name" --out "$P/$name-model/unet/model.onnx" > "$P/$name.export.log" 2>&1 \
      || { cat "$P/$name.export.log"; exit 1; }
    nice -n 10 "$KTRAIN" evaluate --model "$P/$name-model" --data "$DATA" --out "$P/$name-eval" --per-grade 60 \
      --classifier models/kl-resnet18-224.kcls > "$P/$name.eval.log" 2>&1 || { tail -3 "$P/$name.eval.log"; exit 1; }
    sed -n '/| grade |/,/| all |/p' "$P/$name-eval/report.md"
  done
done
echo "=== done $(date -u +%H:%M:%S)"
