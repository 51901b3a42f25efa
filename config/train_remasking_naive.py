# The "naive" re-masker: learns to flag characters replaced by uniformly random ones with [WRONG].
# $ python train.py config/train_remasking_naive.py [--ship=True]
# It ships as checkpoints/ckpt_remasking_naive_4400.pt, the name sample.py and the guide use, so
# max_iters is 4400 exactly (the shipped weights are those after the 4400th optimizer step).
# Architecture as in train_unmasking.py (the guide asks for the same one).

training_type = 'remasking'
device = 'cuda'  # a GPU recipe (hours on a CPU): a laptop has config/train_*_cpu.py
out_dir = 'out/remasking_naive'
ship_name = 'ckpt_remasking_naive_4400.pt'

n_layer = 6
n_head = 6
n_embd = 288  # 6 x 288: 5.97M weights + 0.29M position embeddings = 6.27M parameters, 12.0 MiB in float16
dropout = 0.1
block_size = 1024  # = sample.py's sequence_length

# tokens per iteration: 1 x 32 x 1024 = 32,768; 4400 iterations = 144M tokens, ~30 passes over
# the 4.74M training characters; 1.9e12 FLOP per iteration (see train_unmasking.py)
gradient_accumulation_steps = 1
batch_size = 32
max_iters = 4400
lr_decay_iters = 4400
learning_rate = 1e-3
min_lr = 1e-4
warmup_iters = 100

eval_interval = 200  # divides 4400: evaluations at 0, 200, ..., 4400
eval_iters = 20
