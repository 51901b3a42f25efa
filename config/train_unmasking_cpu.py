# A laptop's unmasking model: about 10 minutes on 2 CPU cores, from scratch (README "The models, and
# training your own"). Your text first: python data/shakespeare_char/prepare.py my_text.txt
# $ python train.py config/train_unmasking_cpu.py                          # Shakespeare
# $ python train.py config/train_unmasking_cpu.py --data_dir=data/my_text  # your text
# Then the laptop remasker, which starts from it: config/train_remasking_cpu.py.
training_type = 'unmasking'
out_dir = 'out/unmasking_cpu'
ship_name = 'ckpt_unmasking_cpu.pt'
device = 'cpu'
dtype = 'float32'
compile = False

n_layer = 4
n_head = 4
n_embd = 128  # 0.8M weights
dropout = 0.0
block_size = 128

# 32 x 128 = 4,096 tokens an iteration, 2500 iterations: 10.2M tokens
batch_size = 32
max_iters = 2500
lr_decay_iters = 2500
learning_rate = 2e-3
min_lr = 2e-4
warmup_iters = 100
loss_weighting = 'sequence'  # the NELBO

eval_interval = 250
eval_iters = 20
log_interval = 50
