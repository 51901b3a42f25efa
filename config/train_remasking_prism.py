# The leave-one-out remasker (informed correctors, Zhao et al. 2024):
# half of each batch the project's own sampler's texts, half real text, 15% of each re-read by the
# frozen unmasking model, and the remasker's [WRONG] target there 1 - P(token)/P(the likeliest token).
# PRISM-style (Kim et al. 2025: a quality head on the unmasking model's hidden states): it starts
# from the unmasking model's own weights, whose body already holds what the re-reading knows, so only
# its outputs at unmasked positions have to learn to say it; the architecture stays the guide's.
# $ python train.py config/train_remasking_prism.py [--ship=True]  # 7 min on an H200 beside a second run
training_type = 'remasking'
remasking_target = 'loo'
loo_reread = 0.15
unmasking_checkpoint = 'checkpoints/ckpt_unmasking.pt'
init_from = 'checkpoints/ckpt_unmasking.pt'
pool_size = 4096  # 4096 x 1024 characters: each text is read about 16 times over the run
pool_share = 0.5
out_dir = 'out/remasking_prism'
ship_name = 'ckpt_remasking_prism.pt'

n_layer = 6
n_head = 6
n_embd = 288  # the shipped architecture (init_from's; these must match it)
dropout = 0.0
block_size = 1024

# 64 x 1024 = 65,536 tokens an iteration, 3500 iterations: 229M tokens; a fine-tune's learning rate
gradient_accumulation_steps = 1
batch_size = 64
max_iters = 3500
lr_decay_iters = 3500
learning_rate = 3e-4
min_lr = 3e-5
warmup_iters = 100

eval_interval = 500
eval_iters = 20
