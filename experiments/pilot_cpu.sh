#!/usr/bin/env bash
# Issue 20's CPU pilots: each new remasker target fine-tuned for at most 20 minutes on the 2-core CPU at
# sequence length 256 (batch 16, 128 of the sampler's texts written first), from the shipped remasker's
# weights (prism: from the unmasking model's, as its preset says); then the remasker benchmark on 32
# texts of 256 and eval.py's judged texts (experiments/pilot_rows.py).
# $ OUT=out/pilot bash experiments/pilot_cpu.sh          (TARGETS="prism:450" to train only some)
set -u
OUT=${OUT:-out/pilot}
mkdir -p "$OUT"
common="--device=cpu --dtype=float32 --compile=False --block_size=256 --batch_size=16 --pool_size=128 --eval_interval=200
        --eval_iters=10 --log_interval=50 --warmup_iters=20 --out_dir=$OUT --ship_dir=$OUT"
for t in ${TARGETS:-loo:450 critic:600 prism:450}; do
  name=${t%%:*} iters=${t##*:}
  /usr/bin/time -f "$name: %e s wall" python train.py config/train_remasking_$name.py $common --max_iters=$iters \
    --lr_decay_iters=$iters > "$OUT/train_$name.log" 2>&1
  tail -1 "$OUT/train_$name.log"
done
R=ckpt_remasking_naive_4400.pt,ckpt_remasking_model.pt,$OUT/ckpt_remasking_loo.pt,$OUT/ckpt_remasking_critic.pt,$OUT/ckpt_remasking_prism.pt
python eval.py --benchmark=remasker --device=cpu --num_sequences=32 --sequence_length=256 --remaskers=$R \
  --thresholds=0.005,0.01,0.05,0.2,0.5 > "$OUT/pilot_remasker.txt" 2>&1
python eval.py experiments/pilot_rows.py --rows="$(PILOT=$OUT python experiments/pilot_rows.py)" \
  --out_json="$OUT/pilot_quality.json" > "$OUT/pilot_quality.txt" 2>&1
