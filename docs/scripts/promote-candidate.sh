#!/bin/bash
# Makes a candidate U-Net the shipped default (issue 22: once it beats the default on val with the same evaluation).
# The candidate's folder holds the default's own vae files, so its U-Net file, whose metadata names
# ../vae_decoder/model.onnx and that file's SHA-256, is valid in the default folder byte for byte: it is copied, not
# re-exported, and the candidate's evaluation (same model SHA-256) becomes the default's card evaluation.
# Afterwards: rewrite models/card-notes/kneeonnx-default.md for the new model, re-render the card with --notes, update
# the README figures, re-measure the README main command from a fresh clone, commit. Run from the repository root:
#   KTRAIN=path/to/kneeonnx-train KGEN=path/to/kneeonnx-gen docs/scripts/promote-candidate.sh kneeonnx-latent-s ../runs/v5-latent-s ../runs/v5-eval-STEP
set -eu
KTRAIN=${KTRAIN:-kneeonnx-train} KGEN=${KGEN:-kneeonnx-gen}
NAME=$1 RUN=$2 EVAL=$3
CANDIDATE=models/candidates/$NAME DEFAULT=models/kneeonnx-default
for part in vae_encoder vae_decoder; do
  cmp -s "$CANDIDATE/$part/model.onnx" "$DEFAULT/$part/model.onnx" \
    || { echo "error: $CANDIDATE/$part/model.onnx differs from $DEFAULT/$part/model.onnx; export the candidate into $DEFAULT instead" >&2; exit 2; }
done
SHA=$(sha256sum "$CANDIDATE/unet/model.onnx" | cut -d' ' -f1)
grep -q "\"modelSha256\": *\"$SHA\"" "$EVAL/report.json" \
  || { echo "error: $EVAL/report.json is not an evaluation of $CANDIDATE/unet/model.onnx (sha256 $SHA)" >&2; exit 2; }
cp "$CANDIDATE/unet/model.onnx" "$DEFAULT/unet/model.onnx.tmp" && mv "$DEFAULT/unet/model.onnx.tmp" "$DEFAULT/unet/model.onnx"
PRECISION=$(sed -n 's/.*"Precision": *"\([a-z0-9]*\)".*/\1/p' "$RUN/config.json" | head -1)
MACHINE=${MACHINE:-"2-core $(lscpu | sed -n "s/^Model name: *//p") with AVX-512 BF16, no GPU, ${PRECISION:-bf16} compute"}
CLASSIFIERS="--classifier models/kl-resnet18-224.kcls --side-classifier models/side-reference-64.kcls"
"$KTRAIN" card --model "$DEFAULT/unet/model.onnx" --run "$RUN" --machine "$MACHINE" --evaluation "$EVAL" \
  --evaluation-command "kneeonnx-train evaluate --model $DEFAULT --data ../shared/data/kneeKL224 --per-grade 50 --sides L,R $CLASSIFIERS --denoise-check 16 --out runs/eval-default" \
  --notes models/card-notes/kneeonnx-default.md
cp "$EVAL/generated_beside_real.png" docs/images/default-model-beside-real.png
SHEET=$(mktemp -d)
"$KGEN" generate --model "$DEFAULT" --per-grade 8 --seed 1 --out "$SHEET/out" --sheet docs/images/default-model-sheet.png
"$KGEN" grid --model "$DEFAULT" --sides L,R --seed 1 --out docs/images/default-model-grid-sides.png
rm -rf "$SHEET"
echo "promoted $CANDIDATE (unet sha256 $SHA) to $DEFAULT; now the card notes, README and a fresh-clone run of the main command"
