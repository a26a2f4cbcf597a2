#!/bin/bash
# The sampler sweep of docs/samplers.md (issue 22, item 4) on the shipped default model: one evaluate per setting,
# same seed, 50 images per grade and side (L and R asked separately: 100 per grade), the model's default guidance, the
# ImageNet ResNet-18 grade reference (issue 23; CLASSIFIER=models/kl-reference-64.kcls gives the 64² one of the first sweep).
# Run from the repository root:
#   KTRAIN=path/to/kneeonnx-train docs/scripts/sampler-sweep.sh ../runs/sweep ddpm:50 ddim:50 dpm++2m:10 dpm++2m:20 dpm++2m:25
# A third field sets η (--eta) for ddim and the SDE solvers: dpm++3m-sde:35:0.5.
set -u
KTRAIN=${KTRAIN:-kneeonnx-train}
DATA=${DATA:-../shared/data/kneeKL224}
MODEL=${MODEL:-models/kneeonnx-default}
CLASSIFIER=${CLASSIFIER:-models/kl-resnet18-224.kcls}
OUT=$1; shift
mkdir -p "$OUT"
for setting in "$@"; do
  IFS=: read -r sampler steps eta <<< "$setting"
  name="${sampler/++/pp}-$steps${eta:+-eta$eta}"
  echo "=== $name $(date -u +%H:%M:%S)"
  start=$(date +%s.%N)
  nice -n 10 "$KTRAIN" evaluate --model "$MODEL" --data "$DATA" --out "$OUT/$name" --per-grade 50 --sides L,R \
    --sampler "$sampler" --steps "$steps" ${eta:+--eta "$eta"} --gen-seed 1 \
    --classifier "$CLASSIFIER" --side-classifier models/side-reference-64.kcls > "$OUT/$name.log" 2>&1 \
    || { tail -3 "$OUT/$name.log"; continue; }
  echo "wall $(echo "$(date +%s.%N) - $start" | bc) s"
  grep -E "images in .*images/s" "$OUT/$name.log" | tail -1
  grep -E "^\| all \||Spearman|Side check" "$OUT/$name/report.md" | head -6
done
