# A sampler-outcome critic (kin of EDLM's real-against-model energy, Xu et al. 2024): half of each
# batch holds a span of a text written by the project's own sampler (fill_once_confidence, 59
# iterations: pool_size texts written at the start), at the same positions, in real text (a quarter
# of those the whole sequence); [WRONG] marks the sampler's characters, so P([WRONG]) means "this
# reads like the sampler, not like Shakespeare", and on real text nothing is [WRONG] by construction.
# No unmasking pass per iteration, so it trains faster. It starts from the shipped model remasker's weights.
# $ python train.py config/train_remasking_critic.py       # 6 min on an H200 beside two other runs (round 7)
training_type = 'remasking'
remasking_target = 'critic'
unmasking_checkpoint = 'checkpoints/ckpt_unmasking.pt'
init_from = 'checkpoints/ckpt_remasking_model.pt'
pool_size = 4096  # 4096 x 1024 characters: each text is read about 23 times over the run
pool_share = 0.5
out_dir = 'out'
ckpt_name = 'ckpt_remasking_critic.pt'  # out/: full precision + optimizer state
ship_ckpt_name = 'ckpt_remasking_critic.pt'  # checkpoints/: float16 weights

n_layer = 6
n_head = 6
n_embd = 288  # the shipped architecture (init_from's; these must match it)
dropout = 0.0
block_size = 1024

# 64 x 1024 = 65,536 tokens an iteration, 3000 iterations: 197M tokens; a fine-tune's learning rate
gradient_accumulation_steps = 1
batch_size = 64
max_iters = 3000
lr_decay_iters = 3000
learning_rate = 3e-4
min_lr = 3e-5
warmup_iters = 100

eval_interval = 500
eval_iters = 20
