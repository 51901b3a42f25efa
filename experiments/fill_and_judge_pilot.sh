#!/usr/bin/env bash
# The CPU pilot of the model that fills and judges (config/train_fill_and_judge.py at length 256): both
# judge targets fine-tuned from the shipped unmasker on the 2-core CPU, then what each writes in the
# guide's modes against the unmasker alone, at equal forward passes (experiments/fill_and_judge_rows.py).
#   OUT=out/pilot bash experiments/fill_and_judge_pilot.sh [train|rows|likelihood|all]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out/pilot}
ITERS=${ITERS:-600}
mkdir -p "$OUT"
what=${1:-all}
if [[ $what == train || $what == all ]]; then
    for target in reread own_fill; do
        python train.py config/train_fill_and_judge.py --judge_target=$target --block_size=256 --batch_size=16 \
            --max_iters=$ITERS --lr_decay_iters=$ITERS --warmup_iters=50 --eval_interval=200 --eval_iters=5 \
            --pool_size=128 --out_dir="$OUT/$target" --ship_name="ckpt_fj_$target.pt" \
            --device=cpu --compile=False --dtype=float32 --log_interval=50 2>&1 | tee "$OUT/train_$target.log"
    done
fi
if [[ $what == likelihood || $what == all ]]; then
    for f in checkpoints/ckpt_unmasking.pt "$OUT/reread/ckpt_fj_reread.pt" "$OUT/own_fill/ckpt_fj_own_fill.pt"; do
        python eval.py --benchmark=likelihood --checkpoint_name="$f" --sequence_length=256 --num_sequences=256 \
            --device=cpu 2>&1 | tee "$OUT/likelihood_$(basename "$f" .pt).txt"
    done
fi
if [[ $what == rows || $what == all ]]; then
    OUT=$OUT python eval.py experiments/fill_and_judge_rows.py --out_json="$OUT/fill_and_judge_pilot.json" \
        2>&1 | tee "$OUT/rows.log"
fi
