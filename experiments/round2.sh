#!/usr/bin/env bash
# Round 2 of the issue-11 runs (README, "Training the unmasker"), on a machine with 2 GPUs, with round
# 1's unmasker shipped as checkpoints/ckpt_unmasking.pt:
#   GPU 1: the model-corruption remasker retrained against it by its preset, then eval.py's quality
#          table (every mode and the fill-once baselines) and the remasker diagnostics;
#   GPU 0: the training speed of the unmasker preset (ms/iter, MFU) with the batches read from the .bin
#          files and cut on the GPU, and at twice the batch; then two architectures of the same size
#          from scratch for 4000 iterations each (6 x 288 with 6 heads of 48, 8 x 256 with 4 of 64).
# Writes to $OUT (out/round2): the new remasker, logs, results.
set -u
OUT=${OUT:-out/round2}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
PY=${PY:-python3}
(
    CUDA_VISIBLE_DEVICES=1 $PY train.py config/train_remasking_model.py > "$OUT/remasker.log" 2>&1
    cp checkpoints/ckpt_remasking_model.pt "$OUT/"
    CUDA_VISIBLE_DEVICES=1 $PY eval.py --device=cuda --num_samples=256 --out_json="$OUT/quality.json" \
        | grep -v '^{' > "$OUT/gpu1.txt" 2>&1
    CUDA_VISIBLE_DEVICES=1 $PY eval.py --benchmark=remasker --num_sequences=64 --device=cuda | grep -v '^{' \
        >> "$OUT/gpu1.txt" 2>&1
) &
speed() {  # name, then train.py's arguments
    local name=$1; shift
    echo "== $name: $*"
    CUDA_VISIBLE_DEVICES=0 $PY train.py config/train_unmasking.py --out_dir="out/$name" --eval_interval=100000 \
        --eval_iters=1 --log_interval=100 --ship_ckpt_name= "$@" 2>&1 | grep -E '^iter' | tail -2
}
{
    speed memmap --data_on_device=False --max_iters=300
    speed on_device --max_iters=300
    speed batch128 --batch_size=128 --max_iters=150
} > "$OUT/speed.log" 2>&1
arch() {  # name, then train.py's arguments
    local name=$1; shift
    CUDA_VISIBLE_DEVICES=0 $PY train.py config/train_unmasking.py --out_dir="out/$name" --max_iters=4000 \
        --lr_decay_iters=4000 --eval_interval=1000 --eval_iters=20 --log_interval=500 --ship_ckpt_name= \
        --loss_weighting=sequence "$@" > "$OUT/arch_$name.log" 2>&1
}
arch 6x288
arch 8x256 --n_layer=8 --n_embd=256 --n_head=4
wait
