#!/bin/bash
# One GPU session's training stint for the default model (docs/training.md, "GPU stints"), run on the lent machine as
# the last job of ../shared/gpu's recipe, after the chunks (runtime, training CLI with DnnImageModels/, the train split
# at 128², models/kneeonnx-default as models.tar) are parked:
#   bash .gpu/scripts/take.sh N && bash .gpu/scripts/gpu-stint.sh MINUTES
# It trains the U-Net (continued from the shipped file) and the decoder (behind the frozen encoder, with its weight
# average) side by side on the one GPU, stops both itself MINUTES after its start, exports both with float16 weights
# (the U-Net twice: beside the new decoder and beside the shipped one) and leaves the exports and logs under $OUT.
# The U-Net's checkpoint is brought back afterwards in 15 MB pieces, four per job:
#   cp /tmp/kgpu/ck/checkpoint.ckpt.part.0[0-3] $OUT/   (after: split -b 15000000 -d -a 2 /tmp/kgpu/unet/checkpoint.ckpt /tmp/kgpu/ck/checkpoint.ckpt.part.)
# Lessons of 2026-12-04 (H200): --max-minutes now counts from the command's start, the train split's encoding included
# (273 s on 16 CPU cores with ONNX Runtime); end the trainers well before the job's own limit, or the runner kills them
# before their SIGTERM checkpoint is written; never `pkill -f` a pattern that the job's own command line contains.
set -u
MINUTES=${1:?usage: gpu-stint.sh MINUTES}
K=/tmp/kgpu; T0=$(date +%s)
el() { echo "[$(( $(date +%s) - T0 ))s] $*"; }
bash .gpu/scripts/unpack.sh || { echo "unpack failed"; exit 3; }
tar -xf $K/pay/models.tar -C $K
. .gpu/scripts/env.sh
mkdir -p $K/logs; cp -r $K/models/kneeonnx-default $K/ae
el "unpacked; $(nvidia-smi --query-gpu=name,memory.used --format=csv,noheader); $(nproc) cores"
ktrain train --init-from $K/ae/unet/model.onnx --autoencoder $K/ae --data $K/data --out $K/unet --device cuda --precision fp32 \
  --batch 256 --lr 1e-4 --warmup 200 --steps 6000 --min-snr-gamma 5 --seed 4 --max-minutes "$MINUTES" --latent-cache $K/cache \
  --log-every 100 --checkpoint-every 1000 > $K/logs/unet.log 2>&1 &
PU=$!
ktrain train-autoencoder --init-from $K/ae --freeze-encoder --data $K/data --out $K/dec --device cuda --precision fp32 \
  --crop 128 --batch 16 --lr 5e-5 --warmup 100 --adversarial-start 0 --ema-decay 0.999 --steps 6000 --seed 3 \
  --max-minutes "$MINUTES" --log-every 200 --checkpoint-every 2000 > $K/logs/dec.log 2>&1 &
PD=$!
while kill -0 $PU 2>/dev/null || kill -0 $PD 2>/dev/null; do
  sleep 15
  el "$(nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv,noheader) | unet: $(tail -n 1 $K/logs/unet.log) | decoder: $(tail -n 1 $K/logs/dec.log)"
done
wait $PU; RU=$?; wait $PD; RD=$?
el "trainers ended: U-Net $RU, decoder $RD"
mkdir -p $K/oldpair && cp -r $K/ae/vae_encoder $K/ae/vae_decoder $K/oldpair/
EX="--default-sampler dpm++3m --default-steps 20 --default-guidance 2 --weight-storage float16"
[ $RD = 0 ] && { ktrain export-autoencoder --checkpoint $K/dec --out $K/final --weight-storage float16 > $K/logs/export-dec.log 2>&1
  [ $RU = 0 ] && ktrain export --checkpoint $K/unet --out $K/final/unet/model.onnx --autoencoder $K/final $EX > $K/logs/export-unet-new.log 2>&1; } &
[ $RU = 0 ] && ktrain export --checkpoint $K/unet --out $K/oldpair/unet/model.onnx --autoencoder $K/oldpair $EX > $K/logs/export-unet-old.log 2>&1
wait
for r in unet dec; do cp $K/$r/config.json $K/logs/$r-config.json; cp $K/$r/loss.csv $K/logs/$r-loss.csv; done 2>/dev/null
sha256sum $K/*/*/model.onnx $K/unet/checkpoint.ckpt > $K/logs/sha256.txt 2>/dev/null
tar -C $K -czf $OUT/logs.tgz logs
cd $K && for f in oldpair/unet/model.onnx final/unet/model.onnx final/vae_decoder/model.onnx; do
  [ -f $f ] && split -b 15000000 -d $f "$OUT/$(echo $f | tr / _).part."; done
mkdir -p $K/ck && split -b 15000000 -d -a 2 $K/unet/checkpoint.ckpt $K/ck/checkpoint.ckpt.part.
ls -la $OUT; el "done"
