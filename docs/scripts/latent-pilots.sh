#!/bin/bash
# The latent recipe pilots of docs/training.md (issue 22): train to a fixed step, export the EMA model beside the
# committed autoencoder's decoder, evaluate on val. Run from the repository root:
#   KTRAIN=path/to/kneeonnx-train docs/scripts/latent-pilots.sh run p2-xs-vzsnr 2000 latent-xs --prediction v_prediction --zero-terminal-snr
set -u
KTRAIN=${KTRAIN:-kneeonnx-train}
DATA=${DATA:-../shared/data/kneeKL224}
AE=${AE:-models/kneeonnx-default}
P=${PILOTS:-../runs/pilots}
mkdir -p "$P"
common="--autoencoder $AE --data $DATA --sides --batch 32 --lr 2e-4 --warmup 200 --steps 40000 --min-snr-gamma 5 --seed 1 --log-every 200 --checkpoint-every 500"
run() { # name stop-step preset [extra train options...]
  local name=$1 stop=$2 preset=$3; shift 3
  echo "=== $name $(date -u +%H:%M:%S)"
  nice -n 10 "$KTRAIN" train $common --preset "$preset" --out "$P/$name" --stop-at-step "$stop" "$@" > "$P/$name.train.log" 2>&1
  tail -1 "$P/$name.train.log"
  mkdir -p "$P/$name-model/unet"
  nice -n 10 "$KTRAIN" export --checkpoint "$P/$name" --out "$P/$name-model/unet/model.onnx" > "$P/$name.export.log" 2>&1 || { cat "$P/$name.export.log"; return 1; }
  nice -n 10 "$KTRAIN" evaluate --model "$P/$name-model" --data "$DATA" --out "$P/$name-eval" --per-grade 60 --classifier models/kl-reference-64.kcls > "$P/$name.eval.log" 2>&1
  sed -n '/| grade |/,/| all |/p' "$P/$name-eval/report.md"
}
"$@"
