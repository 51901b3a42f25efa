# A remasker that learns what the unmasking model's re-reading knows (leave-one-out distillation;
# informed correctors, Zhao et al. 2024). Half of each batch is text written by the project's own
# sampler (fill_once_confidence, 59 iterations: pool_size texts written at the start), half real
# text; 15% of each sequence is masked and re-read by the frozen unmasking model, and there the
# remasker's target is [WRONG] with weight 1 - P(token)/P(the likeliest token), the token with the
# rest: P([WRONG]) says how far below the best the token is, in one pass over every position.
# It starts from the shipped model remasker's weights.
# $ python train.py config/train_remasking_loo.py          # 6 min on an H200 beside two other runs (round 7)
training_type = 'remasking'
remasking_target = 'loo'
loo_score = 'margin'
loo_reread = 0.15
unmasking_checkpoint = 'checkpoints/ckpt_unmasking.pt'
init_from = 'checkpoints/ckpt_remasking_model.pt'
pool_size = 4096  # 4096 x 1024 characters: each text is read about 16 times over the run
pool_share = 0.5
out_dir = 'out'
ckpt_name = 'ckpt_remasking_loo.pt'  # out/: full precision + optimizer state
ship_ckpt_name = 'ckpt_remasking_loo.pt'  # checkpoints/: float16 weights

n_layer = 6
n_head = 6
n_embd = 288  # the shipped architecture (init_from's; these must match it)
dropout = 0.0
block_size = 1024

# 64 x 1024 = 65,536 tokens an iteration, 2000 iterations: 131M tokens; a fine-tune's learning rate
gradient_accumulation_steps = 1
batch_size = 64
max_iters = 2000
lr_decay_iters = 2000
learning_rate = 3e-4
min_lr = 3e-5
warmup_iters = 100

eval_interval = 500
eval_iters = 20
