# A re-masker trained on the unmasking model's own mistakes: a random share of each sequence is
# masked, refilled with samples of the frozen unmasking model (temperature 1), and [WRONG] is the
# target wherever the sample differs from the original. Train the unmasking model first:
# $ python train.py config/train_unmasking.py
# $ python train.py config/train_remasking_model.py
# It reads the shipped float16 unmasking model, the one sample.py generates with, so it learns the
# errors of that very model. Each iteration also runs that model forward once: ~1/3 more compute.

training_type = 'remasking'
remasking_corruption = 'model'
unmasking_checkpoint = 'checkpoints/ckpt_unmasking.pt'
out_dir = 'out'
ckpt_name = 'ckpt_remasking_model.pt'  # out/: full precision + optimizer state
ship_ckpt_name = 'ckpt_remasking_model.pt'  # checkpoints/: float16 weights

n_layer = 6
n_head = 6
n_embd = 288  # 6 x 288: 5.97M weights + 0.29M position embeddings = 6.27M parameters, 12.0 MiB in float16
dropout = 0.0
block_size = 1024  # = sample.py's sequence_length

# tokens per iteration: 1 x 64 x 1024 = 65,536; 3.75e12 FLOP per iteration for the re-masker plus
# 1.25e12 for the unmasking model's forward pass (same size).
gradient_accumulation_steps = 1
batch_size = 64
max_iters = 6000
lr_decay_iters = 6000
learning_rate = 1e-3
min_lr = 1e-4
warmup_iters = 100

eval_interval = 500
eval_iters = 20
