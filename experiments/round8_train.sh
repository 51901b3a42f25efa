#!/usr/bin/env bash
# Round 8 (issues 20 and 21), first call: the PRISM-style remasker (the leave-one-out target from the
# unmasking model's weights, round 7's best) trained longer, 3500 iterations (config/train_remasking_prism.py),
# beside the same with the plain probability target (loo_score='probability'), side by side on one H200.
# $ OUT=out/round8 bash experiments/round8_train.sh
set -u
OUT=${OUT:-out/round8}
mkdir -p "$OUT" out/gpu
export PYTHONUNBUFFERED=1
timeout 560 python train.py config/train_remasking_prism.py --ship_dir=out/gpu --ckpt_name=ckpt_remasking_prism.pt \
  > "$OUT/train_prism.log" 2>&1 &
a=$!
timeout 560 python train.py config/train_remasking_prism.py --ship_dir=out/gpu --loo_score=probability \
  --ckpt_name=ckpt_remasking_prism_p.pt --ship_ckpt_name=ckpt_remasking_prism_p.pt > "$OUT/train_prism_p.log" 2>&1 &
b=$!
status=0
wait $a || status=1
wait $b || status=1
for t in prism prism_p; do
  grep -E "^step|sampler's texts" "$OUT/train_$t.log" | tail -4
  cp "out/gpu/ckpt_remasking_$t.pt" "$OUT/" 2>/dev/null || status=1
done
exit $status
