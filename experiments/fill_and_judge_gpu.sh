#!/usr/bin/env bash
# The model that fills and judges at full size on one GPU (config/train_fill_and_judge.py: 1024
# characters, the shipped architecture, from the shipped unmasker's weights): both judge targets
# trained side by side, then each one's NELBO beside the shipped unmasker's (eval.py's likelihood
# benchmark on every window of the held-out works) and a first look at what each writes in the guide's
# schedule mode (experiments/fill_and_judge_look.py). Needs data/shakespeare_char/{train,val}.bin and
# meta.json. Writes to $OUT: each run's log and float16 weights, the likelihoods, the look.
#   OUT=out/fj_gpu bash experiments/fill_and_judge_gpu.sh
set -u
OUT=${OUT:-out/fj_gpu}  # the run's folder
ITERS=${ITERS:-3000}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
for target in reread own_fill; do
    timeout 330 python train.py config/train_fill_and_judge.py --judge_target=$target --max_iters="$ITERS" \
        --lr_decay_iters="$ITERS" --out_dir="$OUT/$target" --ship_name="ckpt_fj_$target.pt" \
        > "$OUT/train_$target.log" 2>&1 &
done
wait
tail -n 4 "$OUT"/train_*.log
for f in checkpoints/ckpt_unmasking.pt "$OUT"/reread/ckpt_fj_reread.pt "$OUT"/own_fill/ckpt_fj_own_fill.pt; do
    timeout 45 python eval.py --benchmark=likelihood --checkpoint_name="$f" > "$OUT/likelihood_$(basename "$f" .pt).txt" 2>&1
    tail -n 2 "$OUT/likelihood_$(basename "$f" .pt).txt" | head -n 1
done
OUT=$OUT timeout 110 python eval.py experiments/fill_and_judge_look.py --out_json="$OUT/look.json" > "$OUT/look.txt" 2>&1
grep -v '^{' "$OUT/look.txt" | tail -n 24
