# The unmasking model (sample.py's main diffusion model) on Shakespeare, character level.
# $ python train.py config/train_unmasking.py              # -> out/unmasking/ckpt_unmasking.pt
# $ python train.py config/train_unmasking.py --ship=True  # and checkpoints/ckpt_unmasking.pt (replaced)
# Size by measurement: three models of this architecture (unmasker, two remaskers) and the judge
# must fit 48 MiB in float16, and the default `python sample.py` (then 59 forward passes of 1 x 1024
# on a 2-core CPU) must stay under 30 s. 6 x 288 is 6.29M parameters, 12.0 MiB per file. RESULTS.md
# ("training the unmasker", "the shipped models") gives what this run measured.

training_type = 'unmasking'
device = 'cuda'  # a GPU recipe (hours on a CPU): a laptop has config/train_*_cpu.py
out_dir = 'out/unmasking'  # its checkpoint (ckpt.pt: full precision, the optimizer's state) and weights
ship_name = 'ckpt_unmasking.pt'  # the float16 weights; --ship=True puts them where sample.py looks

n_layer = 6
n_head = 6
n_embd = 288  # 6 x 288: 5.97M weights + 0.29M position embeddings = 6.27M parameters, 12.0 MiB in float16
dropout = 0.0  # the model underfits (train and val loss stay together): dropout would only slow it
block_size = 1024  # = sample.py's sequence_length

# tokens per iteration: 1 x 64 x 1024 = 65,536; 10000 iterations = 655M tokens, about 138 passes
# over the 4.74M training characters (each pass with fresh masks)
gradient_accumulation_steps = 1
batch_size = 64
max_iters = 10000
lr_decay_iters = 10000
learning_rate = 1e-3
min_lr = 1e-4
warmup_iters = 100

# compute: forward FLOPs per token (model.flops_per_token) = 2 x 6.0M + 4 x 6 x 1024 x 288
# = 19.1M; x3 with the backward, so 3.75e12 FLOP per iteration and 3.75e16 for the run.
eval_interval = 250
eval_iters = 20
