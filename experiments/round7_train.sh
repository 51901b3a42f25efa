#!/usr/bin/env bash
# Round 7 (issues 20 and 21), first call: the three new remaskers at full length (1024) against the
# shipped unmasker, trained side by side on one H200 (each preset ~2-3 min alone). The shipped
# float16 files go to out/gpu/ (ignored, so a second call on the same machine finds them) and a copy
# to $OUT with the logs.
# $ OUT=out/round7 bash experiments/round7_train.sh
set -u
OUT=${OUT:-out/round7}
mkdir -p "$OUT" out/gpu
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
pids=()
for t in loo critic prism; do
  timeout 540 python train.py config/train_remasking_$t.py --ship_dir=out/gpu --ckpt_name=ckpt_remasking_$t.pt > "$OUT/train_$t.log" 2>&1 &
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
for t in loo critic prism; do
  tail -3 "$OUT/train_$t.log"
  cp "out/gpu/ckpt_remasking_$t.pt" "$OUT/" 2>/dev/null || status=1
done
exit $status
