#!/usr/bin/env bash
# The guide's presets that eval.py's default rows leave out, at the shipped defaults on one GPU (256 texts
# a row): example 4 (random, 50 iterations), mode 3 (threshold 0.003, the naive remasker, at most 30) at
# 1024 characters, and example 3 (mixed 0.05, exponential, 20 iterations) at its 512. Writes to $OUT.
#   OUT=out/presets bash experiments/presets_gpu.sh
set -u
OUT=${OUT:-out/presets}
mkdir -p "$OUT"
FJ=ckpt_fill_and_judge.pt
python eval.py --rows="mode=validation;name=example 4 (baseline random),mode=random,diffusion_iterations=50,unmasker=$FJ;\
name=mode 3 (threshold 0.003),mode=threshold,threshold=0.003,diffusion_iterations=30,unmasker=$FJ,\
remasker=ckpt_remasking_naive_4400.pt" --out_json="$OUT/presets_1024.json" > "$OUT/presets_1024.txt" 2>&1
python eval.py --sequence_length=512 --rows="mode=validation;name=example 3 (fast mixed),mode=mixed,threshold=0.05,\
remasking_schedule=exponential,diffusion_iterations=20,unmasker=$FJ,remasker=$FJ" \
    --out_json="$OUT/presets_512.json" > "$OUT/presets_512.txt" 2>&1
for f in presets_1024 presets_512; do grep -v '^{' "$OUT/$f.txt" | sed -n '/^row  /,/^$/p'; done
