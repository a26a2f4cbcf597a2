#!/bin/bash
# Issue 20's equal-step pilots for the autoencoder: the kl-f4 recipe of docs/latent.md (64² crops, L1 + ResNet-18
# perceptual, no critic this early) trained from scratch to the same step in fp32 and in bf16 with two seeds each,
# every run exported and its reconstructions of the whole of val measured the same way. From the repository root:
#   KTRAIN=path/to/kneeonnx-train [SEEDS="1 2"] [THREADS=1] docs/scripts/ae-precision-pilots.sh [STEPS]
# THREADS=1 keeps the pilots to one core (training and scoring), so a campaign given --threads 1 keeps the other.
set -u
KTRAIN=${KTRAIN:-kneeonnx-train}
DATA=${DATA:-../shared/data/kneeKL224}
P=${PILOTS:-../runs/ae-precision-pilots}
STEPS=${1:-300}
SEEDS=${SEEDS:-1 2}
THREADS=${THREADS:-0}
mkdir -p "$P"
for seed in $SEEDS; do
  for precision in bf16 fp32; do
    name=$precision-s$seed
    [ -f "$P/$name-eval/reconstruction.json" ] && { echo "=== $name already evaluated"; continue; }
    echo "=== $name $(date -u +%H:%M:%S)"
    nice -n 10 "$KTRAIN" train-autoencoder --data "$DATA" --preset kl-f4 --steps "$STEPS" --batch 16 --warmup 50 \
      --adversarial-start 100000 --checkpoint-every 100 --seed "$seed" --precision "$precision" --threads "$THREADS" --out "$P/$name" \
      > "$P/$name.train.log" 2>&1 || { tail -3 "$P/$name.train.log"; exit 1; }
    tail -1 "$P/$name.train.log"
    nice -n 10 "$KTRAIN" export-autoencoder --checkpoint "$P/$name" --out "$P/$name-model" > "$P/$name.export.log" 2>&1 \
      || { cat "$P/$name.export.log"; exit 1; }
    nice -n 10 "$KTRAIN" evaluate-autoencoder --autoencoder "$P/$name-model" --data "$DATA" --threads "$THREADS" --out "$P/$name-eval" \
      > "$P/$name.eval.log" 2>&1 || { tail -3 "$P/$name.eval.log"; exit 1; }
    tail -1 "$P/$name.eval.log"
  done
done
echo "=== done $(date -u +%H:%M:%S)"
