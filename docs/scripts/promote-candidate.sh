#!/bin/bash
# Makes a candidate U-Net the shipped default (issue 22: once it beats the default on val with the same evaluation).
# The candidate's U-Net file names ../vae_decoder/model.onnx and that file's SHA-256, so with the candidate's decoder
# (the default's own, or a fine-tuned one that is promoted with it) it is valid in the default folder byte for byte: the
# files are copied, not re-exported. The candidate's evaluation folder is evaluated again on the default folder: the generated images are
# keyed by the U-Net's SHA-256, so they are reused and only the measures are recomputed (a few minutes), and the card's
# evaluation names the default folder. Write models/card-notes/kneeonnx-default.md for the new model first (the
# candidate's notes are a start). Afterwards: README figures, the main command re-measured from a fresh clone, commit.
# Run from the repository root:
#   KTRAIN=path/to/kneeonnx-train KGEN=path/to/kneeonnx-gen docs/scripts/promote-candidate.sh kneeonnx-latent-s ../runs/v5-latent-s ../runs/v5-eval-STEP
set -euo pipefail
NAME=${1:?usage: promote-candidate.sh NAME RUN EVAL} RUN=${2:?usage: promote-candidate.sh NAME RUN EVAL} EVAL=${3:?usage: promote-candidate.sh NAME RUN EVAL}
KTRAIN=${KTRAIN:-kneeonnx-train} KGEN=${KGEN:-kneeonnx-gen}
DATA=${DATA:-../shared/data/kneeKL224}
CANDIDATE=models/candidates/$NAME DEFAULT=models/kneeonnx-default NOTES=models/card-notes/kneeonnx-default.md
fail() { echo "error: $*" >&2; exit 2; }
# Every input is checked before the default's U-Net is touched.
for f in "$CANDIDATE/unet/model.onnx" "$RUN/config.json" "$EVAL/report.json" "$NOTES"; do [ -f "$f" ] || fail "$f: not found"; done
command -v "$KTRAIN" >/dev/null || fail "$KTRAIN: not found (set KTRAIN)"
command -v "$KGEN" >/dev/null || fail "$KGEN: not found (set KGEN)"
# A candidate may bring its own autoencoder part (a fine-tuned decoder, issue 21); its U-Net names that part's hash, so
# they move together. The encoder defines the latents every U-Net here was trained on: a new one is not a promotion.
cmp -s "$CANDIDATE/vae_encoder/model.onnx" "$DEFAULT/vae_encoder/model.onnx" \
  || fail "$CANDIDATE/vae_encoder/model.onnx differs from $DEFAULT/vae_encoder/model.onnx: its latents are not the default's"
PARTS=unet
cmp -s "$CANDIDATE/vae_decoder/model.onnx" "$DEFAULT/vae_decoder/model.onnx" || PARTS="vae_decoder unet"
# The U-Net must name the decoder beside it (campaign-stop.sh exports candidates so since 2026-12-03), not another folder's.
DECODER=$("$KGEN" info --model "$CANDIDATE" | sed -n 's/^  decoder: //p')
[ "$DECODER" = "$(realpath "$CANDIDATE/vae_decoder/model.onnx")" ] \
  || fail "$CANDIDATE/unet/model.onnx names the decoder $DECODER, not its own folder's; export it again with campaign-stop.sh"
SHA=$(sha256sum "$CANDIDATE/unet/model.onnx" | cut -d' ' -f1)
grep -q "\"modelSha256\": *\"$SHA\"" "$EVAL/report.json" || fail "$EVAL/report.json is not an evaluation of $CANDIDATE/unet/model.onnx (sha256 $SHA)"
PRECISION=$(sed -n 's/.*"Precision": *"\([a-z0-9]*\)".*/\1/p' "$RUN/config.json" | head -1)
[ -n "$PRECISION" ] || fail "$RUN/config.json names no Precision"
MACHINE=${MACHINE:-"2-core $(lscpu | sed -n "s/^Model name: *//p") with AVX-512 BF16, no GPU, $PRECISION compute"}
CLASSIFIERS="--classifier models/kl-resnet18-224.kcls --side-classifier models/side-reference-64.kcls"

# Every copy is made before any is renamed, so a failed copy leaves the default's pair as it was.
for part in $PARTS; do cp "$CANDIDATE/$part/model.onnx" "$DEFAULT/$part/model.onnx.tmp"; done
for part in $PARTS; do mv "$DEFAULT/$part/model.onnx.tmp" "$DEFAULT/$part/model.onnx"; done
nice -n 10 "$KTRAIN" evaluate --model "$DEFAULT" --data "$DATA" --out "$EVAL" --per-grade 50 --sides L,R $CLASSIFIERS --denoise-check 16
"$KTRAIN" card --model "$DEFAULT/unet/model.onnx" --run "$RUN" --machine "$MACHINE" --evaluation "$EVAL" \
  --evaluation-command "kneeonnx-train evaluate --model $DEFAULT --data $DATA --per-grade 50 --sides L,R $CLASSIFIERS --denoise-check 16 --out runs/eval-default" \
  --notes "$NOTES"
cp "$EVAL/generated_beside_real.png" docs/images/default-model-beside-real.png
SHEET=$(mktemp -d)
trap 'rm -rf "$SHEET"' EXIT
"$KGEN" generate --model "$DEFAULT" --per-grade 8 --seed 1 --out "$SHEET/out" --sheet docs/images/default-model-sheet.png
"$KGEN" grid --model "$DEFAULT" --sides L,R --seed 1 --out docs/images/default-model-grid-sides.png
echo "promoted $CANDIDATE ($PARTS; unet sha256 $SHA) to $DEFAULT; now the README figures and a fresh-clone run of the main command"
