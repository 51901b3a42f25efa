#!/usr/bin/env bash
# Round 7 (issues 19, 20, 21), second call, on the machine that ran experiments/round7_train.sh (its
# remaskers in out/gpu/): eval.py's main rows, the temperature sweep and the remasker benchmark with
# every remasker, at README's main-table size on one H200.
# $ OUT=out/round7 bash experiments/round7_eval.sh
set -u
OUT=${OUT:-out/round7}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
for t in loo critic prism; do
  [ -f "out/gpu/ckpt_remasking_$t.pt" ] || { echo "out/gpu/ckpt_remasking_$t.pt is missing: run round7_train.sh on this machine first"; exit 1; }
done
R=ckpt_remasking_naive_4400.pt,ckpt_remasking_model.pt,out/gpu/ckpt_remasking_loo.pt,out/gpu/ckpt_remasking_critic.pt,out/gpu/ckpt_remasking_prism.pt
python eval.py --benchmark=remasker --num_sequences=64 --remaskers=$R --thresholds=0.005,0.01,0.05,0.2,0.5 > "$OUT/round7_remasker.txt" 2>&1
python eval.py experiments/round7_rows.py --out_json="$OUT/round7_main.json" > "$OUT/round7_main.txt" 2>&1
python eval.py experiments/round7_sweep.py --sweep=temperature --out_json="$OUT/round7_temperature.json" > "$OUT/round7_temperature.txt" 2>&1
grep -v '^{' "$OUT/round7_main.txt" | head -60
