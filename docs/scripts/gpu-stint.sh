#!/bin/bash
# One GPU session's stint for the default model (docs/training.md, "GPU stints") in two jobs, so that the 600-s limit
# of one job goes to training and the device time left after it to issue 22's sampler sets:
#   chunks: bash docs/scripts/gpu-pack.sh 128 (with the model files out of the index as its header says, not as
#           ../shared/gpu/README.md's patterns do: those miss the nested .onnx files)
#   job A, the last of the chunk jobs, timeout_s 600:  bash .gpu/scripts/take.sh N && bash docs/scripts/gpu-stint.sh train END_S
#           END_S = min(545, the job's limit − 55): the stop checkpoint, the export and the return need the rest
#   job B, called at once after A returns (the machine goes back after 30 s idle; /tmp/kgpu lives as long as it does),
#           with timeout_s = the device time left:  bash docs/scripts/gpu-stint.sh sets END_S,  END_S = timeout_s − 20
# train: continues the shipped U-Net (its latent train split encoded on the GPU), stops it END_S seconds after the job's
#   start, exports it with float16 weights beside the shipped autoencoder and brings that file and the logs back.
# sets: loads the exported weights back (a run stopped before its first step, so the EMA weights are the file's, bit for
#   bit) and draws the sampler sets from them (val's 100 per grade: 50 L + 50 R, guidance 2, seed 1), DDPM-1000 first,
#   until END_S; each group comes back as a tar as soon as it is drawn, for `kneeonnx-train evaluate --generated` at home.
# Lessons (2026-12-04, H200): the trainer must end well before the job's own limit, or the runner kills it before its
# SIGTERM checkpoint; never `pkill -f` a pattern that the job's own command line contains; at most 8 files and 64 MiB
# come back per job; session 21 left 203 s of device time unused after a single 600-s job (why there are two now).
set -u
MODE=${1:?usage: gpu-stint.sh train|sets END_S}; END=${2:?usage: gpu-stint.sh train|sets END_S}
K=/tmp/kgpu; T0=$(date +%s)
el() { echo "[$(( $(date +%s) - T0 ))s] $*"; }
left() { echo $(( $1 - ($(date +%s) - T0) )); }

train() {
  bash .gpu/scripts/unpack.sh || { echo "unpack failed"; exit 3; }
  tar -xf $K/pay/models.tar -C $K || { echo "no models.tar in the payload: pack with docs/scripts/gpu-pack.sh"; exit 3; }
  . .gpu/scripts/env.sh
  export DOTNET_gcConcurrent=0   # blocking GC even for a CLI built before it was the project setting (build/TorchSharpGc.targets)
  mkdir -p $K/logs $K/new
  cp -r $K/kneeonnx-default $K/ae && cp -r $K/ae/vae_encoder $K/ae/vae_decoder $K/new/
  el "unpacked; $(nvidia-smi --query-gpu=name,memory.used --format=csv,noheader); $(nproc) cores"
  # ktrain as a command (for timeout in job B), with the libtorch path resolved once
  printf 'export DOTNET_ROOT=%q PATH=%q DOTNET_gcConcurrent=0 LD_LIBRARY_PATH=%q LD_PRELOAD=%q\nexec dotnet %q "$@"\n' \
    "$DOTNET_ROOT" "$PATH" "$KGPU_TORCH_LIB" "$KGPU_TORCH_LIB/libtorch_cuda.so" /tmp/kgpu/app/train/kneeonnx-train.dll > $K/kt.sh

  local minutes; minutes=$(awk -v s="$(left "$END")" 'BEGIN { printf "%.2f", s / 60 }')
  ktrain train --init-from $K/ae/unet/model.onnx --autoencoder $K/ae --data $K/data --out $K/unet --device cuda --precision fp32 \
    --batch 512 --lr 1e-4 --warmup 200 --steps 4500 --min-snr-gamma 5 --seed 6 --max-minutes "$minutes" --latent-cache $K/cache \
    --log-every 100 --checkpoint-every 1000 > $K/logs/unet.log 2>&1 &
  local pu=$!
  while kill -0 $pu 2>/dev/null; do sleep 15; el "$(nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv,noheader) | $(tail -n 1 $K/logs/unet.log)"; done
  wait $pu; el "trainer ended: $?"
  timeout -k 5 45 bash $K/kt.sh export --checkpoint $K/unet --out $K/new/unet/model.onnx --autoencoder $K/new \
    --default-sampler dpm++3m --default-steps 20 --default-guidance 2 --weight-storage float16 > $K/logs/export.log 2>&1
  el "export: $? $(tail -n 1 $K/logs/export.log)"
  (cd $K/new/unet && split -b 15000000 -d model.onnx "$OUT/unet_model.onnx.part.")
  cp $K/unet/config.json $K/logs/unet-config.json; cp $K/unet/loss.csv $K/logs/unet-loss.csv
  sha256sum $K/new/unet/model.onnx $K/unet/checkpoint.ckpt > $K/logs/sha256.txt 2>/dev/null
  tar -C $K -czf $K/logs.tgz logs && mv $K/logs.tgz $OUT/logs.tgz   # never a torn copy
  ls -la $OUT; el "train done"
}

draw() { # name sampler steps [grade side]: one batch of 50 per grade and side; DDPM-1000 runs one process per pair
  local l; l=$(left "$END")   # timeout 0 would mean no limit at all
  (( l > 0 )) || { el "$1 ${4:-}${5:-}: skipped, no time left"; return; }
  # A grade and side drawn alone are the same images as in the whole set: the noise stream is (seed, grade, side, index).
  timeout -k 5 "$l" bash $K/kt.sh sample --checkpoint $CK --sampler $2 --steps $3 --guidance 2 --sides "${5:-L,R}" \
    --per-grade 50 --seed 1 --batch 50 --grades "${4:-all}" --device cuda --out $K/sets/$1${4:+-g$4$5} > $K/logs/sample-$1${4:-}${5:-}.log 2>&1
  el "$1 ${4:-}${5:-}: $? $(tail -n 1 $K/logs/sample-$1${4:-}${5:-}.log)"
}
send() { # name set... : one tar of the sets under $OUT (at most 8 files come back: 4 tars of sets, logs)
  local name=$1; shift; (cd $K/sets && tar -cf "$OUT/sets-$name.tar" "$@" 2>/dev/null); el "sent $name: $(du -h "$OUT/sets-$name.tar" | cut -f1)"
}

sets() {
  [ -f $K/kt.sh ] || { echo "no $K/kt.sh: job A did not run on this machine (it went back?)"; exit 4; }
  [ -f $K/new/unet/model.onnx ] || [ -f $K/unet/checkpoint.ckpt ] || { echo "neither an exported U-Net nor a checkpoint under $K: job A failed (its logs.tgz says why)"; exit 4; }
  mkdir -p $K/logs $K/sets
  CK=$K/unet
  if [ -f $K/new/unet/model.onnx ]; then
    # The exported weights back in a checkpoint: a run on ten images that stops before its first step.
    mkdir -p $K/tiny/train && for g in 0 1 2 3 4; do mkdir -p $K/tiny/train/$g && ls $K/data/train/$g | head -2 | xargs -I{} cp $K/data/train/$g/{} $K/tiny/train/$g/; done
    timeout -k 5 60 bash $K/kt.sh train --init-from $K/new/unet/model.onnx --autoencoder $K/new --data $K/tiny --out $K/carrier --device cuda \
      --max-minutes 0.001 --latent-cache $K/cache > $K/logs/carrier.log 2>&1
    [ -f $K/carrier/checkpoint.ckpt ] && CK=$K/carrier
  fi
  el "carrier: $(tail -n 1 $K/logs/carrier.log); sampling from $CK"
  ( local ps="" g s d; for g in 0 1 2 3 4; do for s in L R; do draw ddpm1000 ddpm 1000 $g $s & ps="$ps $!"; done; done; wait $ps
    for g in 0 1 2 3 4; do for s in L R; do d=$K/sets/ddpm1000-g$g$s
      [ -d $d/$g ] && mkdir -p $K/sets/ddpm1000/$g && mv $d/$g/* $K/sets/ddpm1000/$g/ && rm -rf $d; done; done
    send ddpm1000 ddpm1000 ) &
  local pd=$!
  draw dpmpp3m20 dpm++3m 20; draw ddim50 ddim 50; draw ddpm50 ddpm 50; send fast dpmpp3m20 ddim50 ddpm50
  draw dpmpp3m30 dpm++3m 30; draw dpmpp2m10 dpm++2m 10; send more dpmpp3m30 dpmpp2m10   # ≈ 3.7 MB a set: ≤ 3 per tar (16 MiB)
  draw dpmpp2m20 dpm++2m 20; draw dpmpp2m25 dpm++2m 25; send 2m dpmpp2m20 dpmpp2m25
  wait $pd
  (cd $K/sets && for d in */; do echo "$d $(find $d -name '*.png' | wc -l) images"; done)
  sha256sum $K/new/unet/model.onnx $K/*/checkpoint.ckpt >> $K/logs/sha256.txt 2>/dev/null
  tar -C $K -czf $K/logs-sets.tgz logs && mv $K/logs-sets.tgz $OUT/logs-sets.tgz
  ls -la $OUT; el "sets done"
}

case $MODE in
  train) train ;;
  sets) sets ;;
  *) echo "usage: gpu-stint.sh train|sets END_S"; exit 2 ;;
esac
