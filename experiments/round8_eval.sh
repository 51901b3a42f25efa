#!/usr/bin/env bash
# Round 8, second call, on the machine that ran experiments/round8_train.sh: eval.py's rows and
# temperature sweep, the remasker benchmark with the new remaskers, the CUDA tests, and bench.py at
# this code beside bench.py at commit 9e844ad (before the stream; its files in out/old/).
# $ OUT=out/round8 bash experiments/round8_eval.sh
set -u
OUT=${OUT:-out/round8}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
for t in prism prism_p; do
  [ -f "out/gpu/ckpt_remasking_$t.pt" ] || { echo "out/gpu/ckpt_remasking_$t.pt is missing: run round8_train.sh on this machine first"; exit 1; }
done
R=ckpt_remasking_model.pt,out/gpu/ckpt_remasking_prism.pt,out/gpu/ckpt_remasking_prism_p.pt
python eval.py --benchmark=remasker --num_sequences=64 --remaskers=$R --thresholds=0.005,0.01,0.05,0.2,0.5 > "$OUT/round8_remasker.txt" 2>&1
python eval.py experiments/round8_rows.py --out_json="$OUT/round8_main.json" > "$OUT/round8_main.txt" 2>&1
python eval.py experiments/round8_sweep.py --sweep=temperature --out_json="$OUT/round8_temperature.json" > "$OUT/round8_temperature.txt" 2>&1
{
  python -m pytest -q tests/test_cuda.py 2>&1 | tail -3
  for code in out/old .; do
    echo "== bench.py of $code"
    python $code/bench.py --workload=gpt2 --batch_sizes=64 --dtype=bfloat16 --repeats=2 --modes=mixed,fill_once 2>&1 | grep -v '^{'
    python $code/bench.py --batch_sizes=64 --dtype=bfloat16 --repeats=3 --modes=schedule,fill_once_confidence 2>&1 | grep -v '^{'
  done
} > "$OUT/round8_cuda_bench.txt" 2>&1
cat "$OUT/round8_cuda_bench.txt"
grep -v '^{' "$OUT/round8_main.txt" | sed -n '/^row  /,/^$/p'
