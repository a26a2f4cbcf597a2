#!/bin/bash
# What every stop of the default model's training campaign does (issue 22): export the run's EMA U-Net into the shipped
# folder with its default sampler and guidance scale written in (docs/samplers.md), evaluate it on val (100 per grade, L and R asked separately), and write
# the card from the run, the evaluation and the card notes. Commit the folder afterwards. Run from the repository root:
#   KTRAIN=path/to/kneeonnx-train docs/scripts/campaign-stop.sh ../runs/v4-latent2 ../runs/v4-eval-STEP
# A candidate that is not the default yet goes into its own folder, its autoencoder copied from the default's (git keeps
# one copy of identical files): MODEL=models/candidates/NAME docs/scripts/campaign-stop.sh RUN EVAL
set -eu
KTRAIN=${KTRAIN:-kneeonnx-train}
DATA=${DATA:-../shared/data/kneeKL224}
DEFAULT=models/kneeonnx-default
MODEL=${MODEL:-$DEFAULT}
NOTES=${NOTES:-models/card-notes/$(basename "$MODEL").md}
RUN=$1 EVAL=$2
# The precision the run computes in now (it may change on --resume; the card notes keep the history).
PRECISION=$(sed -n 's/.*"Precision": *"\([a-z0-9]*\)".*/\1/p' "$RUN/config.json" | head -1)
MACHINE=${MACHINE:-"2-core $(lscpu | sed -n "s/^Model name: *//p") with AVX-512 BF16, no GPU, ${PRECISION:-bf16} compute"}
# GUIDANCE=none: a guidance-distilled run (--distill-guidance) carries its scale in the weights and samples unguided.
GUIDANCE=${GUIDANCE:-2}
GUIDANCE_OPTION="--default-guidance $GUIDANCE"
[ "$GUIDANCE" = none ] && GUIDANCE_OPTION=""
# The model's default sampler (docs/samplers.md: the best at the old default's cost until DDPM-1000 on v5 applies issue 22's rule).
SAMPLER=${SAMPLER:-dpm++3m} STEPS=${STEPS:-20}
# The ImageNet ResNet-18 reference reads the grade (issue 23); the 64² side classifier is accurate enough for sides.
CLASSIFIERS="--classifier models/kl-resnet18-224.kcls --side-classifier models/side-reference-64.kcls"

if [ "$MODEL" != "$DEFAULT" ]; then
  mkdir -p "$MODEL/unet" && cp -r "$DEFAULT/vae_encoder" "$DEFAULT/vae_decoder" "$MODEL/"
fi
# --autoencoder: the U-Net names the decoder of its own folder (../vae_decoder/model.onnx), so a candidate folder is
# whole by itself and its U-Net file is valid unchanged in the default folder (docs/scripts/promote-candidate.sh).
nice -n 10 "$KTRAIN" export --checkpoint "$RUN" --out "$MODEL/unet/model.onnx" --autoencoder "$MODEL" \
  --default-sampler "$SAMPLER" --default-steps "$STEPS" $GUIDANCE_OPTION --weight-storage "${WEIGHTS:-float32}"
nice -n 10 "$KTRAIN" evaluate --model "$MODEL" --data "$DATA" --out "$EVAL" --per-grade 50 --sides L,R $CLASSIFIERS --denoise-check 16
"$KTRAIN" card --model "$MODEL/unet/model.onnx" --run "$RUN" --machine "$MACHINE" --evaluation "$EVAL" \
  --evaluation-command "kneeonnx-train evaluate --model $MODEL --data $DATA --per-grade 50 --sides L,R $CLASSIFIERS --denoise-check 16 --out runs/eval-default" \
  --notes "$NOTES"
[ "$MODEL" = "$DEFAULT" ] && cp "$EVAL/generated_beside_real.png" docs/images/default-model-beside-real.png
grep -E "^\| all \||Spearman|Side check" "$EVAL/report.md" | head -6
