#!/usr/bin/env bash
# Round 4 (issue 12, README "Quality" and "Choosing what to re-mask"), with the defaults chosen by
# round 3 (selection.sh), on a machine with 2 GPUs and the shipped checkpoints:
#   GPU 0: eval.py's main table (its default rows), the temperature sweep, the threshold sweep;
#   GPU 1: the iteration sweep, the selection knobs around the defaults, the infill benchmark.
# Writes JSON and logs to $OUT (out/final); the plots and CSVs are drawn from the JSON afterwards.
set -u
OUT=${OUT:-out/final}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
PY=${PY:-python3}
q() { $PY eval.py --device=cuda --show_chars=300 "$@" | grep -v '^{'; }
(
    export CUDA_VISIBLE_DEVICES=1
    q config/eval_sweep.py --sweep=iterations --out_json="$OUT/iterations.json"
    q experiments/selection_final.py --out_json="$OUT/selection.json"
    $PY eval.py --benchmark=infill --device=cuda --sequence_length=256 --num_samples=256 > "$OUT/infill.txt"
) > "$OUT/gpu1.txt" 2>&1 &
(
    export CUDA_VISIBLE_DEVICES=0
    q --out_json="$OUT/main.json"
    q config/eval_sweep.py --sweep=temperature --out_json="$OUT/temperature.json"
    q config/eval_threshold_sweep.py --out_json="$OUT/threshold.json"
) > "$OUT/gpu0.txt" 2>&1
wait
