# The unmasking model (sample.py's main diffusion model) on Shakespeare, character level.
# $ python train.py config/train_unmasking.py
# Sizes are placeholders until measured. 6 x 384 is 10.65M parameters (11.05M with the position
# embeddings): 21.1 MiB in float16, over the 16 MiB that a file in checkpoints/ should stay under;
# 4 x 384 (7.5M, 14.3 MiB) would fit.

training_type = 'unmasking'
out_dir = 'out'
ckpt_name = 'ckpt_unmasking.pt'  # out/: full precision + optimizer state, for --init_from=resume
ship_ckpt_name = 'ckpt_unmasking.pt'  # checkpoints/: float16 weights, what sample.py loads by default

n_layer = 6
n_head = 6
n_embd = 288  # 6 x 288: 5.97M weights + 0.29M position embeddings = 6.27M parameters, 12.0 MiB in float16
dropout = 0.0  # train and val loss stay together: the model underfits, dropout only slows it
block_size = 1024  # = sample.py's sequence_length

# tokens per iteration: 1 x 64 x 1024 = 65,536; 5000 iterations = 328M tokens, about 69 passes
# over the 4.74M training characters (each pass with fresh masks)
gradient_accumulation_steps = 1
batch_size = 64
max_iters = 10000
lr_decay_iters = 10000
learning_rate = 1e-3
min_lr = 1e-4
warmup_iters = 100

# compute: forward FLOPs per token (model.flops_per_token) = 2 x 10.65M + 4 x 6 x 1024 x 384
# = 30.7M; x3 with the backward = 92M, so 6.0e12 FLOP per iteration and 3.0e16 for the run.
# An evaluation is forward only: 2 splits x 50 batches x 65,536 tokens x 30.7M = 2.0e14 FLOP,
# 13% of the 250 iterations between evaluations.
eval_interval = 250
eval_iters = 20
