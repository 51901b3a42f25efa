#!/usr/bin/env bash
# Round 5 (issue 12): the temperature and iteration sweeps of config/eval_sweep.py again, with
# fill_once_confidence among the families, one sweep per GPU of a machine with 2. Writes to $OUT.
set -u
OUT=${OUT:-out/sweeps}
mkdir -p "$OUT"
PY=${PY:-python3}
CUDA_VISIBLE_DEVICES=1 $PY eval.py config/eval_sweep.py --device=cuda --show_chars=300 --sweep=iterations \
    --out_json="$OUT/iterations.json" > "$OUT/gpu1.txt" 2>&1 &
CUDA_VISIBLE_DEVICES=0 $PY eval.py config/eval_sweep.py --device=cuda --show_chars=300 --sweep=temperature \
    --out_json="$OUT/temperature.json" > "$OUT/gpu0.txt" 2>&1
wait
