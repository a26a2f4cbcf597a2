#!/bin/bash
# The card's evaluation of the shipped default at other generation seeds (docs/samplers.md, "How much of the card's
# figures is the seed"): one evaluate per seed, everything else as the card's. Run from the repository root:
#   KTRAIN=path/to/kneeonnx-train docs/scripts/seed-sweep.sh ../runs/seed-sweep 2 3 4 5
set -u
KTRAIN=${KTRAIN:-kneeonnx-train}
DATA=${DATA:-../shared/data/kneeKL224}
MODEL=${MODEL:-models/kneeonnx-default}
OUT=$1; shift
mkdir -p "$OUT"
for seed in "$@"; do
  echo "=== seed $seed $(date -u +%H:%M:%S)"
  nice -n 10 "$KTRAIN" evaluate --model "$MODEL" --data "$DATA" --per-grade 50 --sides L,R \
    --classifier models/kl-resnet18-224.kcls --side-classifier models/side-reference-64.kcls --gen-seed "$seed" \
    --out "$OUT/seed$seed" > "$OUT/seed$seed.log" 2>&1 || { tail -3 "$OUT/seed$seed.log"; continue; }
  grep -E "images in .*images/s" "$OUT/seed$seed.log" | tail -1
  grep -E "^\| all \|" "$OUT/seed$seed/report.md" | head -1
done
