#!/usr/bin/env bash
# The laptop recipes on the 2-core CPU: the unmasker (config/train_unmasking_cpu.py), the remasker that
# fills and judges (config/train_remasking_cpu.py) and, for the choice of its target, the naive target
# at the same size; then what each writes against fill-once and fill_once_confidence at equal passes
# (experiments/laptop_rows.py) and a sample of the pair. Writes to $OUT (and out/unmasking_cpu/,
# out/remasking_cpu/, the recipes' own folders).
#   OUT=out/laptop bash experiments/laptop_recipes.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out/laptop}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
/usr/bin/time -v python train.py config/train_unmasking_cpu.py > "$OUT/train_unmasking_cpu.log" 2> "$OUT/time_unmasking_cpu.txt"
/usr/bin/time -v python train.py config/train_remasking_cpu.py > "$OUT/train_remasking_cpu.log" 2> "$OUT/time_remasking_cpu.txt"
/usr/bin/time -v python train.py config/train_remasking_cpu.py --training_type=remasking --init_from=scratch \
    --out_dir=out/remasking_naive_cpu --ship_name=ckpt_remasking_naive_cpu.pt --learning_rate=2e-3 --min_lr=2e-4 \
    --max_iters=1500 --lr_decay_iters=1500 \
    > "$OUT/train_remasking_naive_cpu.log" 2> "$OUT/time_remasking_naive_cpu.txt"
python eval.py experiments/laptop_rows.py --out_json="$OUT/laptop_cpu.json" > "$OUT/rows.log" 2>&1
P=out/remasking_cpu/ckpt_remasking_cpu.pt
/usr/bin/time -v python sample.py --checkpoint_name=$P --remasking_checkpoint_name=$P --sequence_length=600 \
    > "$OUT/sample.txt" 2> "$OUT/sample_stderr.txt"
