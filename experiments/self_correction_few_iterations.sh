#!/usr/bin/env bash
# One call on one H200 (2026-12-02, 58a72a1): after the default of correction_passes became none below
# 20 iterations (sample.CORRECTION_MIN_ITERATIONS), the iteration sweep again with 15 among the
# points, and the rows around the boundary: fill_once_confidence and schedule mode (PRISM) at 10,
# 15 and 20 iterations with and without a third of them correcting.
# $ OUT=out/short bash experiments/self_correction_few_iterations.sh
set -u
OUT=${OUT:-out/short}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
F=mode=fill_once_confidence S=mode=schedule,remasker=ckpt_remasking_prism.pt
rows="mode=validation"
for TC in 10:3 15:5 20:7; do
  T=${TC%%:*} C=${TC##*:}
  rows="$rows;name=foc-$T,$F,diffusion_iterations=$T,correction_passes=0;name=foc-$T C=$C,$F,diffusion_iterations=$T,correction_passes=$C"
  rows="$rows;name=schedule-prism-$T,$S,diffusion_iterations=$T,correction_passes=0;name=schedule-prism-$T C=$C,$S,diffusion_iterations=$T,correction_passes=$C"
done
python eval.py --rows="$rows" --out_json="$OUT/small_t.json" > "$OUT/small_t.txt" 2>&1
python eval.py config/eval_sweep.py --sweep=iterations --sweep_values=5,10,15,20,30,50,100 \
  --out_json="$OUT/quality_iterations.json" > "$OUT/iterations.txt" 2>&1
for f in small_t iterations; do grep -v '^{' "$OUT/$f.txt" | sed -n '/^row  /,/^$/p'; done
