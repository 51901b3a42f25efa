#!/usr/bin/env bash
# Round 3 (issue 12, README "Choosing what to re-mask"), on a machine with 2 GPUs and the shipped checkpoints:
#   GPU 0: eval.py's quality of every selection rule in experiments/selection_grid.py (256 texts a row);
#   GPU 1: the late-state remasker (experiments/train_remasking_late.py, 2000 iterations from the model
#          remasker), its diagnostics and its rows (experiments/selection_late.py).
# Writes to $OUT (out/selection): results, logs and the new remasker.
set -u
OUT=${OUT:-out/selection}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
PY=${PY:-python3}
(
    CUDA_VISIBLE_DEVICES=1 $PY train.py experiments/train_remasking_late.py > "$OUT/late_train.log" 2>&1
    cp checkpoints/ckpt_remasking_late.pt "$OUT/"
    CUDA_VISIBLE_DEVICES=1 $PY eval.py --benchmark=remasker --num_sequences=64 --device=cuda \
        --remaskers=ckpt_remasking_model.pt,ckpt_remasking_late.pt --thresholds=0.005,0.01,0.05,0.5 \
        | grep -v '^{' > "$OUT/late.txt" 2>&1
    CUDA_VISIBLE_DEVICES=1 $PY eval.py experiments/selection_late.py --device=cuda --out_json="$OUT/late.json" \
        --show_chars=120 | grep -v '^{' >> "$OUT/late.txt" 2>&1
) &
CUDA_VISIBLE_DEVICES=0 $PY eval.py experiments/selection_grid.py --device=cuda --out_json="$OUT/grid.json" \
    --show_chars=120 2>&1 | grep -v '^{' > "$OUT/grid.txt"
wait
