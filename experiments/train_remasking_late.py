# A re-masker for the sampler's late states, where few characters are wrong: the model-corruption
# re-masker (config/train_remasking_model.py) fine-tuned on sequences with at most 10% of their
# characters re-filled by the unmasking model. Its P([WRONG]) is meant to fall below threshold mode's
# 0.005 on text the unmasker finds consistent (issue 12, item 6).
# $ python train.py experiments/train_remasking_late.py
# Its starting point is the shipped model re-masker, so train that one first.

training_type = 'remasking'
remasking_corruption = 'model'
max_corrupted = 0.1  # the corrupted share is uniform on [0, 0.1]: 51 characters of 1024 on average
unmasking_checkpoint = 'checkpoints/ckpt_unmasking.pt'
init_from = 'checkpoints/ckpt_remasking_model.pt'
out_dir = 'out'
ckpt_name = 'ckpt_remasking_late.pt'  # out/: full precision + optimizer state
ship_ckpt_name = 'ckpt_remasking_late.pt'  # checkpoints/: float16 weights

n_layer = 6
n_head = 6
n_embd = 288  # the shipped models' shape
dropout = 0.0
block_size = 1024

gradient_accumulation_steps = 1
batch_size = 64
max_iters = 2000
lr_decay_iters = 2000
learning_rate = 3e-4  # a fine-tune: a third of the first run's peak
min_lr = 3e-5
warmup_iters = 100

eval_interval = 500
eval_iters = 20
