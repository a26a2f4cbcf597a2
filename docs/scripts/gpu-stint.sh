#!/bin/bash
# One GPU session's stint for the default model (docs/training.md, "GPU stints"), run on the lent machine as the last
# job of ../shared/gpu's recipe, after the chunks (runtime, training CLI, the train split at 128², models/kneeonnx-default
# as models.tar) are parked:
#   bash .gpu/scripts/take.sh N && bash docs/scripts/gpu-stint.sh TRAIN_END_S SAMPLE_END_S
# It continues the shipped U-Net (its latent train split encoded on the GPU), stops it TRAIN_END_S seconds after the
# job's start, exports it with float16 weights beside the shipped autoencoder and brings that file back at once; then it
# loads the exported weights back (a run stopped before its first step, so the EMA weights are the file's, bit for bit)
# and draws issue 22's sampler sets from them (val's 100 per grade: 50 L + 50 R, guidance 2, seed 1), DDPM-1000 among
# them, until SAMPLE_END_S. Each set comes back as a tar, sent as soon as it is drawn, for `kneeonnx-train evaluate
# --generated` at home.
# Lessons (2026-12-04, H200): the trainer must end well before the job's own limit, or the runner kills it before its
# SIGTERM checkpoint; never `pkill -f` a pattern that the job's own command line contains; at most 64 MiB comes back.
set -u
TRAIN_END=${1:?usage: gpu-stint.sh TRAIN_END_S SAMPLE_END_S}; SAMPLE_END=${2:?usage: gpu-stint.sh TRAIN_END_S SAMPLE_END_S}
K=/tmp/kgpu; T0=$(date +%s)
el() { echo "[$(( $(date +%s) - T0 ))s] $*"; }
left() { echo $(( $1 - ($(date +%s) - T0) )); }
bash .gpu/scripts/unpack.sh || { echo "unpack failed"; exit 3; }
tar -xf $K/pay/models.tar -C $K
. .gpu/scripts/env.sh
export DOTNET_gcConcurrent=0   # blocking GC even for a CLI built before it was the project setting (build/TorchSharpGc.targets)
mkdir -p $K/logs $K/new
cp -r $K/kneeonnx-default $K/ae && cp -r $K/ae/vae_encoder $K/ae/vae_decoder $K/new/
el "unpacked; $(nvidia-smi --query-gpu=name,memory.used --format=csv,noheader); $(nproc) cores"

minutes=$(awk -v s="$(left "$TRAIN_END")" 'BEGIN { printf "%.2f", s / 60 }')
ktrain train --init-from $K/ae/unet/model.onnx --autoencoder $K/ae --data $K/data --out $K/unet --device cuda --precision fp32 \
  --batch 512 --lr 1e-4 --warmup 200 --steps 4000 --min-snr-gamma 5 --seed 5 --max-minutes "$minutes" --latent-cache $K/cache \
  --log-every 100 --checkpoint-every 1000 > $K/logs/unet.log 2>&1 &
PU=$!
while kill -0 $PU 2>/dev/null; do sleep 15; el "$(nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv,noheader) | $(tail -n 1 $K/logs/unet.log)"; done
wait $PU; RU=$?
el "trainer ended: $RU"
EX="--default-sampler dpm++3m --default-steps 20 --default-guidance 2 --weight-storage float16"
ktrain export --checkpoint $K/unet --out $K/new/unet/model.onnx --autoencoder $K/new $EX > $K/logs/export.log 2>&1
el "export: $? $(tail -n 1 $K/logs/export.log)"
(cd $K/new/unet && split -b 15000000 -d model.onnx "$OUT/unet_model.onnx.part.")
cp $K/unet/config.json $K/logs/unet-config.json; cp $K/unet/loss.csv $K/logs/unet-loss.csv
tar -C $K -czf $OUT/logs.tgz logs   # the run's config and loss log come back even if the sampling below runs out of time

# The exported weights back in a checkpoint: a run on ten images that stops before its first step.
mkdir -p $K/tiny/train && for g in 0 1 2 3 4; do mkdir -p $K/tiny/train/$g && ls $K/data/train/$g | head -2 | xargs -I{} cp $K/data/train/$g/{} $K/tiny/train/$g/; done
ktrain train --init-from $K/new/unet/model.onnx --autoencoder $K/new --data $K/tiny --out $K/carrier --device cuda --max-minutes 0.001 \
  --latent-cache $K/cache > $K/logs/carrier.log 2>&1
CK=$K/carrier; [ -f $K/carrier/checkpoint.ckpt ] || CK=$K/unet
el "carrier: $(tail -n 1 $K/logs/carrier.log); sampling from $CK"
# ktrain as a command (for timeout), with the libtorch path resolved once; blocking GC also for a CLI built before it
# was the project's setting (build/TorchSharpGc.targets)
printf 'export DOTNET_ROOT=%s PATH=%s DOTNET_gcConcurrent=0 LD_LIBRARY_PATH=%s LD_PRELOAD=%s\nexec dotnet %s "$@"\n' \
  "$DOTNET_ROOT" "$PATH" "$KGPU_TORCH_LIB" "$KGPU_TORCH_LIB/libtorch_cuda.so" /tmp/kgpu/app/train/kneeonnx-train.dll > $K/kt.sh
draw() { # name sampler steps [grades]: one batch per grade and side, so DDPM-1000 runs as one process per grade
  local l; l=$(left "$SAMPLE_END")   # timeout 0 would mean no limit at all
  (( l > 0 )) || { el "$1 ${4:-}: skipped, no time left"; return; }
  timeout -k 5 "$l" bash $K/kt.sh sample --checkpoint $CK --sampler $2 --steps $3 --guidance 2 --sides L,R \
    --per-grade 50 --seed 1 --batch 50 --grades "${4:-all}" --device cuda --out $K/sets/$1${4:+-g$4} > $K/logs/sample-$1${4:-}.log 2>&1
  el "$1 ${4:-}: $? $(tail -n 1 $K/logs/sample-$1${4:-}.log)"
}
# Each set goes back as soon as it is drawn (at most 8 files come back: 2 U-Net pieces, logs, 4 tars of sets).
send() { # name set... : one tar of the sets under $OUT
  local name=$1; shift; (cd $K/sets && tar -cf "$OUT/sets-$name.tar" "$@" 2>/dev/null); el "sent $name: $(du -h "$OUT/sets-$name.tar" | cut -f1)"
}
mkdir -p $K/sets
( PS=""; for g in 0 1 2 3 4; do draw ddpm1000 ddpm 1000 $g & PS="$PS $!"; done; wait $PS
  mkdir -p $K/sets/ddpm1000 && for g in 0 1 2 3 4; do d=$K/sets/ddpm1000-g$g; [ -d $d/$g ] && mv $d/$g $K/sets/ddpm1000/ && rm -rf $d; done
  send ddpm1000 ddpm1000 ) &
PS=$!
draw dpmpp3m20 dpm++3m 20; draw dpmpp3m30 dpm++3m 30; send 3m dpmpp3m20 dpmpp3m30
draw ddim50 ddim 50; draw ddpm50 ddpm 50; send 50 ddim50 ddpm50
draw dpmpp2m10 dpm++2m 10; draw dpmpp2m20 dpm++2m 20; draw dpmpp2m25 dpm++2m 25; send 2m dpmpp2m10 dpmpp2m20 dpmpp2m25
wait $PS
(cd $K/sets && for d in */; do echo "$d $(find $d -name '*.png' | wc -l) images"; done)
sha256sum $K/*/unet/model.onnx $K/*/checkpoint.ckpt > $K/logs/sha256.txt 2>/dev/null
tar -C $K -czf $K/logs.tgz logs && mv $K/logs.tgz $OUT/logs.tgz   # never a torn copy over the early one
ls -la $OUT; el "done"
