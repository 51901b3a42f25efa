#!/usr/bin/env bash
# One GPU call that re-measures what README shows at the shipped defaults: eval.py's main table (its default
# rows), the temperature points that compare the default mode with the unmasker's baselines at 30 passes
# and matched entropy (experiments/defaults_sweep.py), the speed of every mode at the defaults, and the CUDA
# tests. Needs data/shakespeare_char/{train,val}.bin and meta.json. Writes to $OUT.
#   OUT=out/defaults bash experiments/defaults_gpu.sh
set -u
OUT=${OUT:-out/defaults}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
timeout 170 python eval.py --out_json="$OUT/quality_main.json" > "$OUT/quality_main.txt" 2>&1
timeout 80 python eval.py experiments/defaults_sweep.py --out_json="$OUT/quality_default_temperature.json" \
    > "$OUT/default_temperature.txt" 2>&1
timeout 60 python bench.py --batch_sizes=64 --modes=schedule,mixed,fill_once_confidence --repeats=3 \
    > "$OUT/bench.txt" 2>&1
timeout 150 python -m pytest -q -n 0 -p no:cacheprovider tests/test_cuda.py > "$OUT/cuda_tests.txt" 2>&1
for f in quality_main default_temperature; do grep -v '^{' "$OUT/$f.txt" | sed -n '/^row  /,/^$/p'; done
grep -A5 '^mode' "$OUT/bench.txt" | grep -v '^{'; tail -n 3 "$OUT/cuda_tests.txt"
