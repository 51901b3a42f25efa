#!/usr/bin/env bash
# The unmasker runs of README's "Training the unmasker" table (issue 11), on a machine with 2 GPUs,
# all from the shipped weights: the long run on GPU 0 while GPU 1 runs the lever comparisons one after
# another and then the likelihood (NELBO against the judge) of each; at the end the long run's
# likelihood and the fill-once text of the shipped and the long-run unmasker. Needs
# data/shakespeare_char (prepare.py). Writes logs, results and checkpoints to $OUT (out/runs).
#   $ OUT=out/runs bash experiments/unmasker_runs.sh
set -u
OUT=${OUT:-out/runs}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
PY=${PY:-python3}
FROM="config/train_unmasking.py --init_from=checkpoints/ckpt_unmasking.pt --eval_interval=1000 --eval_iters=10 --log_interval=500"
LONG=${LONG:-18000}
LEVER=${LEVER:-3000}

likelihood() {  # gpu, checkpoint
    echo "== $2"
    CUDA_VISIBLE_DEVICES=$1 $PY eval.py --benchmark=likelihood --checkpoint_name="$2" --device=cuda | tail -4
}

(
    CUDA_VISIBLE_DEVICES=0 $PY train.py $FROM --loss_weighting=sequence --learning_rate=5e-4 --min_lr=5e-5 \
        --warmup_iters=200 --max_iters=$LONG --lr_decay_iters=$LONG --out_dir=out/long --ship_dir="$OUT" \
        --ship_ckpt_name=u_long.pt > "$OUT/long.log" 2>&1
    likelihood 0 "$OUT/u_long.pt" > "$OUT/likelihood_long.txt" 2>&1
    ROWS='mode=validation;name=fill-once-30,mode=fill_once,diffusion_iterations=30'
    ROWS+=';name=fill-once-59,mode=fill_once,diffusion_iterations=59;name=fill-once-1024,mode=fill_once,diffusion_iterations=1024'
    for u in "$OUT/u_long.pt" checkpoints/ckpt_unmasking.pt; do
        echo "== $u"
        CUDA_VISIBLE_DEVICES=0 $PY eval.py --checkpoint_name="$u" --rows="$ROWS" --num_samples=128 --device=cuda \
            --dtype=float32 | grep -v '^{'
    done > "$OUT/fill_once.txt" 2>&1
) &

lever() {  # name, then train.py's arguments: LEVER iterations of 65,536 tokens unless they say otherwise
    local name=$1; shift
    CUDA_VISIBLE_DEVICES=1 $PY train.py $FROM --max_iters=$LEVER --lr_decay_iters=$LEVER --out_dir="out/$name" \
        --ship_dir=out/levers --ship_ckpt_name="u_$name.pt" "$@" > "$OUT/lever_$name.log" 2>&1
    likelihood 1 "out/levers/u_$name.pt" >> "$OUT/likelihood_levers.txt" 2>&1
}
likelihood 1 checkpoints/ckpt_unmasking.pt > "$OUT/likelihood_levers.txt" 2>&1
lever token5 --loss_weighting=token --learning_rate=5e-4 --min_lr=5e-5
lever seq5 --loss_weighting=sequence --learning_rate=5e-4 --min_lr=5e-5
lever seq10 --loss_weighting=sequence --learning_rate=1e-3 --min_lr=1e-4
wait
