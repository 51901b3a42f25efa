# A laptop's remasker: the laptop unmasker (config/train_unmasking_cpu.py) fine-tuned to also judge
# ([WRONG] at the visible tokens that do not belong: training_type='fill_and_judge', as the shipped
# ckpt_fill_and_judge.pt), so sample.py runs one pass an iteration with it. About 12 minutes on 2 CPU
# cores. At this size it measured better than the naive remasker's target (RESULTS.md, laptop recipes).
# $ python train.py config/train_remasking_cpu.py [--data_dir=data/my_text]
# $ python sample.py --checkpoint_name=out/remasking_cpu/ckpt_remasking_cpu.pt \
#       --remasking_checkpoint_name=out/remasking_cpu/ckpt_remasking_cpu.pt
training_type = 'fill_and_judge'
judge_target = 'reread'
init_from = 'out/unmasking_cpu/ckpt_unmasking_cpu.pt'
unmasking_checkpoint = 'out/unmasking_cpu/ckpt_unmasking_cpu.pt'
pool_size = 256  # 256 x 128 characters of the sampler's texts, written at the start
pool_share = 0.5
out_dir = 'out/remasking_cpu'
ship_name = 'ckpt_remasking_cpu.pt'
device = 'cpu'
dtype = 'float32'
compile = False

n_layer = 4
n_head = 4
n_embd = 128  # the unmasker's (init_from's)
dropout = 0.0
block_size = 128

batch_size = 32
max_iters = 2000
lr_decay_iters = 2000
learning_rate = 5e-4
min_lr = 5e-5
warmup_iters = 50
loss_weighting = 'sequence'

eval_interval = 500
eval_iters = 20
log_interval = 50
