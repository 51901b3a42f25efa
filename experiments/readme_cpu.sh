#!/usr/bin/env bash
# The CPU figures README quotes, on the 2-core CPU: the quick start's wall time (three whole runs) and
# output, the first characters each mode writes at the defaults (seed 1337), eval.py's quick look
# (config/eval_quick.py) and bench.py on the CPU. Writes to $OUT.
#   OUT=out/readme bash experiments/readme_cpu.sh
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-out/readme}
mkdir -p "$OUT"
for k in 1 2 3; do
    /usr/bin/time -f "%e s wall, %M KB" python sample.py > "$OUT/quickstart_$k.txt" 2> "$OUT/quickstart_$k.err"
    tail -n 1 "$OUT/quickstart_$k.err"
done
modes=(
    "--use_intelligent_remasking=False"
    "--remasking_confidence_threshold=0.005"
    "--use_mixed_remasking=True"
    "--diffusion_iterations=59"
    "config/sample_controlled_mixed.py"
    "config/sample_fill_once.py"
    "config/sample_fill_once_confidence.py"
    "config/sample_self_correction.py"
    "config/sample_guide_rule.py"
)
for m in "${modes[@]}"; do
    printf '%s\t' "$m"
    python sample.py $m --verbose=False 2> /dev/null | head -c 100 | tr '\n' '/'
    echo
done > "$OUT/modes.tsv"
/usr/bin/time -f "%e s wall" python eval.py config/eval_quick.py > "$OUT/eval_quick.txt" 2> "$OUT/eval_quick.err"
tail -n 1 "$OUT/eval_quick.err"
python bench.py --batch_sizes=1 --modes=schedule,mixed,fill_once_confidence --repeats=2 > "$OUT/bench_cpu.txt" 2>&1
grep -v '^{' "$OUT/bench_cpu.txt"
