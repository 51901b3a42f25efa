# The judge: a causal (autoregressive) character model on the same data and vocabulary layout
# (characters, then [MASK] and [WRONG], never used here), for scoring generated text by its
# likelihood. Its val loss is the per-character cross-entropy of the held-out works.
# $ python train.py config/train_judge.py [--ship=True]

training_type = 'autoregressive'
device = 'cuda'  # a GPU recipe (hours on a CPU): a laptop has config/train_*_cpu.py
out_dir = 'out/judge'
ship_name = 'ckpt_judge.pt'

n_layer = 6
n_head = 4
n_embd = 256  # 4.72M weights + 0.26M position embeddings: 9.5 MiB in float16
dropout = 0.2  # a causal model overfits the small corpus quickly
block_size = 1024

# tokens per iteration: 1 x 32 x 1024 = 32,768; 3000 iterations = 98M tokens, ~21 passes over
# the 4.74M training characters. A causal model sees the same targets every pass and overfits
# eventually: always_save_checkpoint = False keeps the best weights in out/judge/ckpt.pt; the
# float16 file holds the final ones.
gradient_accumulation_steps = 1
batch_size = 32
max_iters = 3000
lr_decay_iters = 3000
learning_rate = 1e-3
min_lr = 1e-4
warmup_iters = 100
always_save_checkpoint = False

eval_interval = 250
eval_iters = 20
