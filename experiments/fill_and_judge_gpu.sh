#!/usr/bin/env bash
# The model that fills and judges at full size on one GPU (config/train_fill_and_judge.py: 1024
# characters, the shipped architecture, from the shipped unmasker's weights): both judge targets
# trained side by side, then each one's NELBO beside the shipped unmasker's (eval.py's likelihood
# benchmark on every window of the held-out works) and a first look at what each writes
# (experiments/fill_and_judge_look.py). Needs data/shakespeare_char/{train,val}.bin and meta.json.
# A run cut short by its time limit leaves its last checkpoint, whose weights are then taken.
#   OUT=out/fj_gpu bash experiments/fill_and_judge_gpu.sh
set -u
OUT=${OUT:-out/fj_gpu}  # the run's folder
ITERS=${ITERS:-3000}
LIMIT=${LIMIT:-290}  # seconds for the two training runs
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
for target in reread own_fill; do
    timeout "$LIMIT" python train.py config/train_fill_and_judge.py --judge_target=$target --max_iters="$ITERS" \
        --lr_decay_iters="$ITERS" --out_dir="$OUT/$target" --ship_name="ckpt_fj_$target.pt" \
        > "$OUT/train_$target.log" 2>&1 &
done
wait
for target in reread own_fill; do
    grep '^step' "$OUT/train_$target.log" | tail -n 2
    if [ ! -f "$OUT/$target/ckpt_fj_$target.pt" ]; then  # cut short: the last checkpoint's weights, in float16
        python - "$OUT/$target/ckpt.pt" "$OUT/$target/ckpt_fj_$target.pt" <<'PY'
import sys
import torch
from model import load_checkpoint, save_checkpoint
m, i = load_checkpoint(sys.argv[1])
save_checkpoint(sys.argv[2], m, training_type=i['training_type'], tokenizer=i['tokenizer'], config=i['config'],
                base_vocab_size=i['base_vocab_size'], mask_token_id=i['mask_token_id'],
                wrong_token_id=i['wrong_token_id'], iter_num=i['iter_num'], best_val_loss=i['best_val_loss'],
                weights_dtype=torch.float16)
print(f"cut short: took the weights of {sys.argv[1]}, iteration {i['iter_num']}")
PY
    fi
done
for f in "$OUT"/reread/ckpt_fj_reread.pt "$OUT"/own_fill/ckpt_fj_own_fill.pt; do
    timeout 45 python eval.py --benchmark=likelihood --checkpoint_name="$f" > "$OUT/likelihood_$(basename "$f" .pt).txt" 2>&1
    grep 'NELBO' "$OUT/likelihood_$(basename "$f" .pt).txt"
done
OUT=$OUT timeout 120 python eval.py experiments/fill_and_judge_look.py --out_json="$OUT/look.json" > "$OUT/look.txt" 2>&1
grep -v '^{' "$OUT/look.txt" | grep -v '^$' | tail -n 40
