# Stage 2 of the shipped unmasking model: 18000 more iterations from stage 1's weights, with the
# NELBO loss (each sequence's mean cross-entropy over its masked positions, then the mean over
# sequences) at half stage 1's learning rate. It starts from stage 1's weights, so run the stages in order:
# $ python train.py config/train_unmasking.py                        # stage 1 -> out/unmasking/
# $ python train.py config/train_unmasking_continued.py --ship=True  # stage 2 -> checkpoints/ckpt_unmasking.pt
# The architecture comes from stage 1's checkpoint. RESULTS.md ("training the unmasker") gives what
# it measured and the runs beside it.

training_type = 'unmasking'
init_from = 'out/unmasking/ckpt_unmasking.pt'  # stage 1's weights
device = 'cuda'  # a GPU recipe (hours on a CPU): a laptop has config/train_*_cpu.py
out_dir = 'out/unmasking_continued'
ship_name = 'ckpt_unmasking.pt'

dropout = 0.0
block_size = 1024
loss_weighting = 'sequence'

# 1 x 64 x 1024 = 65,536 tokens per iteration; 18000 iterations = 1.18G tokens (with stage 1's 655M,
# about 387 passes over the 4.74M training characters, each with fresh masks)
gradient_accumulation_steps = 1
batch_size = 64
max_iters = 18000
lr_decay_iters = 18000
learning_rate = 5e-4
min_lr = 5e-5
warmup_iters = 200

eval_interval = 1000
eval_iters = 10
log_interval = 500
