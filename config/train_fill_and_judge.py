# One model that fills and judges: the shipped unmasking model fine-tuned to say [WRONG] at the visible
# tokens that do not belong, beside filling the [MASK]s, so that sample.py runs one forward pass an
# iteration where the guide's modes ran two (PRISM's quality head on the unmasker's pass, Kim et al.
# 2025, here the unmasker's own output layer). A share t of each sequence is [MASK]ed as in unmasking;
# at 15% of the visible tokens the frozen unmasking model re-reads the token and the target there is
# [WRONG] with weight 1 - P(token)/P(the likeliest token) (judge_target='reread'); half of the
# sequences are the project's own sampler's texts (fill_once_confidence, 59 iterations).
# $ python train.py config/train_fill_and_judge.py [--ship=True]
training_type = 'fill_and_judge'
judge_target = 'reread'
loo_reread = 0.15
judge_weight = 1.0
loss_weighting = 'sequence'  # the filling loss as the unmasker's stage 2 took it: the NELBO
unmasking_checkpoint = 'checkpoints/ckpt_unmasking.pt'
init_from = 'checkpoints/ckpt_unmasking.pt'
pool_size = 4096  # 4096 x 1024 characters of the sampler's texts, written at the start
pool_share = 0.5
device = 'cuda'  # a GPU recipe (hours on a CPU): a laptop has config/train_*_cpu.py
out_dir = 'out/fill_and_judge'
ship_name = 'ckpt_fill_and_judge.pt'

n_layer = 6
n_head = 6
n_embd = 288  # the shipped architecture (init_from's; these must match it)
dropout = 0.0
block_size = 1024

# 64 x 1024 = 65,536 tokens an iteration, 3000 iterations: 197M tokens. A gentle fine-tune: the judging
# loss starts high (its outputs at visible tokens were never trained), and in the CPU pilot at 3e-4 its
# first gradients cost the filling loss 0.09 nats before it recovered
gradient_accumulation_steps = 1
batch_size = 64
max_iters = 3000
lr_decay_iters = 3000
learning_rate = 2e-4
min_lr = 2e-5
warmup_iters = 200

eval_interval = 500
eval_iters = 20
