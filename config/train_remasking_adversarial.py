# An experiment, not shipped (checkpoints/ is full at 48 MiB): the model-corruption re-masker,
# fine-tuned on the states of its own schedule-mode sampling chains, judged [WRONG] everywhere.
# $ python train.py config/train_remasking_model.py          # or use the shipped file, as here
# $ python train.py config/train_remasking_adversarial.py
# Why: with every other re-masker trained here (uniform, unigram or model corruption, and the
# 'sampler' corruption anchored to clean text) the guide's schedule mode collapses, the top-N rule
# keeping runs of spaces or "you you" patterns that no training text ever showed them. Seeing its own
# chains teaches the re-masker that such states are wrong. README ("Quality") gives what it gained:
# on one H200 this run took about 1.5 min (44 ms/iter beside two other runs).

training_type = 'remasking'
remasking_corruption = 'adversarial'  # 'model' corruption, but half of each batch from the sampler's own chains
remasking_fake_fraction = 0.5  # 0.25 kept collapsing ("essess"); 0.75 and 5000 iterations found new attractors
init_from = 'checkpoints/ckpt_remasking_model.pt'  # fine-tune the shipped model-corruption re-masker
unmasking_checkpoint = 'checkpoints/ckpt_unmasking.pt'
out_dir = 'out'
ckpt_name = 'ckpt_remasking_adversarial.pt'

dropout = 0.0
block_size = 1024
gradient_accumulation_steps = 1
batch_size = 32
max_iters = 2000
lr_decay_iters = 2000
learning_rate = 3e-4
min_lr = 3e-5
warmup_iters = 100

eval_interval = 500
eval_iters = 5
