#!/bin/bash
# Packs a GPU session's chunks for docs/scripts/gpu-stint.sh: ../shared/gpu/pack.sh (runtime, training CLI, the train
# split at SIDE²) plus models/kneeonnx-default as models.tar, which the stint continues. Run from the project root with
# the model files out of the index, so each job carries a 61-MB chunk instead of them (the shared README's patterns miss
# the nested folders):
#   git ls-files models | grep -E '\.(onnx|kcls)$' | xargs git rm -q --cached
#   printf '/models/**/*.onnx\n/models/*.kcls\n' >> .git/info/exclude
#   bash docs/scripts/gpu-pack.sh 128        # ≈ 1.3 min; prints the chunk jobs
# and afterwards, with no commit in between:  git reset -q -- models && sed -i '\#^/models/#d' .git/info/exclude && rm -rf .gpu
set -euo pipefail
shared=$(cd "$(dirname "$0")/../../../shared/gpu" && pwd)
line='tar -C .gpu/pay -cf .gpu/all.tar dotnet.tar.xz app.tar.xz data.tar'
grep -qxF "$line" "$shared/pack.sh" || { echo "$shared/pack.sh changed: no line '$line' to add models.tar to"; exit 2; }
grep -q '^here=' "$shared/pack.sh" || { echo "$shared/pack.sh changed: no here= line"; exit 2; }
script=$(mktemp); trap 'rm -f "$script"' EXIT
sed -e "s#^here=.*#here=$shared; root=\$(pwd)#" \
    -e "s#^$line\$#tar -C models -cf .gpu/pay/models.tar kneeonnx-default\n$line models.tar#" "$shared/pack.sh" > "$script"
bash "$script" "$@"
