#!/usr/bin/env bash
# One call on one H200 with the shipped set (2026-12-02, 58a72a1): the long-text benchmark
# (64 texts of 4096 characters at contexts 128-768: the default mode, self-correction and plain
# fill_once_confidence), then the threshold, temperature and iteration sweeps again with the
# shipped PRISM remasker (config/eval_*sweep.py). Each step has a time limit so that the steps before
# a slow one come back. Plots are drawn afterwards: python experiments/draw.py (see experiments/README.md).
# $ OUT=out/long bash experiments/long_text_and_sweeps.sh
set -u
OUT=${OUT:-out/long}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
rows="name=python sample.py,mode=schedule,remasker=ckpt_remasking_prism.pt;name=self-correction,mode=fill_once_confidence,diffusion_iterations=59"
rows="$rows;name=fill_once_confidence,mode=fill_once_confidence,diffusion_iterations=59,correction_passes=0"
timeout 170 python eval.py --benchmark=long --sequence_length=4096 --num_samples=64 --batch_size=64 \
  --long_rows="$rows" > "$OUT/long_h200.txt" 2>&1
timeout 110 python eval.py config/eval_threshold_sweep.py --out_json="$OUT/quality_threshold.json" > "$OUT/threshold.txt" 2>&1
timeout 160 python eval.py config/eval_sweep.py --sweep=temperature --out_json="$OUT/quality_temperature.json" \
  > "$OUT/temperature.txt" 2>&1
timeout 140 python eval.py config/eval_sweep.py --sweep=iterations --out_json="$OUT/quality_iterations.json" \
  > "$OUT/iterations.txt" 2>&1
for f in long_h200 threshold temperature iterations; do grep -v '^{' "$OUT/$f.txt" | tail -75; done
