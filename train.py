"""
Train a GPT for masked diffusion on a character-level corpus: nanoGPT's train.py with three objectives.

    unmasking       bidirectional; part of each sequence is [MASK]ed, predict the originals there
    remasking       bidirectional; part of each sequence is corrupted, predict [WRONG] there and the
                    token itself elsewhere (the re-masker that sample.py consults)
    autoregressive  causal next-token prediction on the same data and vocabulary (a quality judge)

    $ python data/shakespeare_char/prepare.py
    $ python train.py config/train_unmasking.py
    $ python train.py config/train_unmasking.py --init_from=resume --max_iters=8000
    $ torchrun --standalone --nproc_per_node=4 train.py config/train_unmasking.py
    $ python train.py --help

All three share one vocabulary layout: the corpus characters, then [MASK] and [WRONG]
(model.special_token_ids), so any of the checkpoints can be used beside any other.
"""

import json
import math
import os
import sys
import time
from contextlib import contextmanager, nullcontext

import numpy as np
import torch
from torch.distributed import destroy_process_group, init_process_group
from torch.nn.parallel import DistributedDataParallel as DDP

from configurator import ConfigError, configure
from model import (DTYPES, GPT, TRAINING_TYPES, GPTConfig, corrupt, load_checkpoint, random_positions, ranked_first,
                   sample_tokens, sampler_corrupt, save_checkpoint, special_token_ids, wrong_probability)
from sample import remask_counts

# -----------------------------------------------------------------------------
# I/O
out_dir = 'out'  # training checkpoints (full precision, optimizer state included, for resume) go here
ckpt_name = 'ckpt.pt'  # the training checkpoint's file name in out_dir
ship_dir = 'checkpoints'  # folder for the shipped file
ship_ckpt_name = ''  # if set: at the end, the final weights in float16, without optimizer state, go to ship_dir/ship_ckpt_name
eval_interval = 250  # iterations between evaluations (and checkpoints); also evaluated at 0 and at max_iters
log_interval = 10  # iterations between training-loss prints
eval_iters = 50  # batches of each split per evaluation (the same batches every time)
eval_only = False  # evaluate once and exit
always_save_checkpoint = True  # save at every evaluation (resume from the latest); False: only when val loss improves
init_from = 'scratch'  # 'scratch' | 'resume' (from out_dir/ckpt_name) | path of a checkpoint whose weights start a new run (fine-tuning: fresh optimizer, iteration 0)
# data
data_dir = 'data/shakespeare_char'  # train.bin, val.bin, meta.json written by prepare.py
gradient_accumulation_steps = 1  # micro-batches per optimizer step, over all DDP processes together
batch_size = 64  # sequences per micro-batch per process
block_size = 1024  # tokens per sequence
# model
n_layer = 6  # transformer blocks
n_head = 6  # attention heads; n_embd must be a multiple
n_embd = 384  # width of the residual stream
dropout = 0.1  # 0.0 for tiny runs; more against overfitting
bias = False  # bias in Linears and LayerNorms
pad_vocab_to = 1  # round the vocabulary (characters + [MASK] + [WRONG]) up to a multiple of this
# objective
training_type = 'unmasking'  # 'unmasking' | 'remasking' | 'autoregressive'
fully_masked_fraction = 0.01  # unmasking: share of sequences masked entirely, on top of the uniform draw
remasking_corruption = 'random'  # 'random': uniform random characters | 'unigram': characters drawn by their corpus frequency | 'model': samples of unmasking_checkpoint | 'mix': 'model' and 'random' | 'sampler': the schedule-mode sampler's own fills | 'adversarial': 'model', plus the model's own sampling chains
remasking_mix_fraction = 0.5  # 'mix': share of sequences corrupted by the model, the rest at random
remasking_sampler_steps = 3  # 'sampler': fills per corruption, with the model in training re-masking between them
remasking_fake_fraction = 0.25  # 'adversarial': share of each batch taken from the model's own sampling chains, all [WRONG]
unmasking_checkpoint = 'checkpoints/ckpt_unmasking.pt'  # 'model', 'mix', 'sampler', 'adversarial': the frozen unmasking model (a path)
# AdamW optimizer
learning_rate = 1e-3  # peak learning rate
max_iters = 5000  # optimizer steps in all; the run ends with an evaluation at max_iters
weight_decay = 1e-1  # on weight matrices and embeddings only
beta1 = 0.9  # AdamW betas
beta2 = 0.99
grad_clip = 1.0  # clip the gradient norm at this value; 0 = off
# learning rate schedule: linear warmup, then cosine decay to min_lr
decay_lr = True  # False: constant learning_rate
warmup_iters = 100  # iterations of linear warmup up to learning_rate
lr_decay_iters = 5000  # usually max_iters
min_lr = 1e-4  # usually learning_rate / 10
# system
backend = ''  # DDP backend; '' = nccl on CUDA, gloo on CPU
device = 'cuda' if torch.cuda.is_available() else 'cpu'  # 'cpu', 'cuda', 'cuda:1', ...; under torchrun, cuda:LOCAL_RANK
dtype = 'bfloat16' if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else 'float32'  # 'float32' | 'bfloat16' | 'float16'
compile = torch.cuda.is_available()  # torch.compile the models (slow to start; pays off on CUDA)
seed = 1337  # same seed, same device, same settings: same run (on CPU; CUDA kernels are not all deterministic)
# -----------------------------------------------------------------------------
try:
    config_keys = configure(globals(), sys.argv[1:])
except ConfigError as e:
    sys.exit(f"error: {e}")
config = {k: globals()[k] for k in config_keys}  # saved in checkpoints
# -----------------------------------------------------------------------------

CORRUPTIONS = ('random', 'unigram', 'model', 'mix', 'sampler', 'adversarial')


def die(msg):
    sys.exit(f"error: {msg}")


if training_type not in TRAINING_TYPES:
    die(f"unknown training_type {training_type!r}; choose one of {', '.join(TRAINING_TYPES)}")
if remasking_corruption not in CORRUPTIONS:
    die(f"unknown remasking_corruption {remasking_corruption!r}; choose one of {', '.join(CORRUPTIONS)}")
if init_from not in ('scratch', 'resume') and not os.path.isfile(init_from):
    die(f"init_from={init_from!r} is neither 'scratch', 'resume' nor an existing checkpoint file")
if dtype not in DTYPES:
    die(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
if device.startswith('cuda') and not torch.cuda.is_available():
    die(f"device {device!r} asked for, but CUDA is not available here; use --device=cpu")
use_unmasker = training_type == 'remasking' and remasking_corruption in ('model', 'mix', 'sampler', 'adversarial')
if not (isinstance(remasking_sampler_steps, int) and remasking_sampler_steps >= 1):
    die(f"remasking_sampler_steps must be an integer of at least 1, got {remasking_sampler_steps!r}")
if not 0.0 <= remasking_fake_fraction < 1.0:
    die(f"remasking_fake_fraction must lie in [0, 1), got {remasking_fake_fraction!r}")

# distributed data parallel: torchrun sets RANK, LOCAL_RANK and WORLD_SIZE
ddp = int(os.environ.get('RANK', -1)) != -1
if ddp:
    init_process_group(backend=backend or ('nccl' if device.startswith('cuda') else 'gloo'))
    ddp_rank, ddp_local_rank, ddp_world_size = (int(os.environ[k]) for k in ('RANK', 'LOCAL_RANK', 'WORLD_SIZE'))
    if device.startswith('cuda'):
        device = f'cuda:{ddp_local_rank}'
        torch.cuda.set_device(device)
    if gradient_accumulation_steps % ddp_world_size:
        die(f"gradient_accumulation_steps={gradient_accumulation_steps} must be a multiple of the {ddp_world_size} processes")
    gradient_accumulation_steps //= ddp_world_size
else:
    ddp_rank, ddp_local_rank, ddp_world_size = 0, 0, 1
master_process = ddp_rank == 0
tokens_per_iter = gradient_accumulation_steps * ddp_world_size * batch_size * block_size
device_type = 'cuda' if device.startswith('cuda') else 'cpu'
torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True
ptdtype = DTYPES[dtype]
ctx = nullcontext() if dtype == 'float32' else torch.amp.autocast(device_type=device_type, dtype=ptdtype)

# data: the vocabulary from meta.json, then [MASK] and [WRONG]
for f in ('meta.json', 'train.bin', 'val.bin'):
    if not os.path.isfile(os.path.join(data_dir, f)):
        die(f"{os.path.join(data_dir, f)} not found; make the data first: python data/shakespeare_char/prepare.py "
            f"[text_file] [--out_dir={data_dir}]")
with open(os.path.join(data_dir, 'meta.json'), encoding='utf-8') as f:
    chars = json.load(f)['chars']
tokenizer = {'type': 'char', 'chars': chars}
base_vocab_size = len(chars)
mask_token_id, wrong_token_id, vocab_size = special_token_ids(base_vocab_size, pad_to=pad_vocab_to)
for split in ('train', 'val'):
    n = os.path.getsize(os.path.join(data_dir, f'{split}.bin')) // 2
    if n < block_size + 1:
        die(f"{split}.bin holds {n} tokens, fewer than block_size+1 = {block_size + 1}; lower block_size")
char_freq = None  # 'unigram' corruption: the training split's character frequencies
if training_type == 'remasking' and remasking_corruption == 'unigram':
    counts = np.bincount(np.memmap(os.path.join(data_dir, 'train.bin'), dtype=np.uint16, mode='r'),
                         minlength=base_vocab_size)[:base_vocab_size]
    char_freq = torch.tensor(counts / counts.sum(), dtype=torch.float32, device=device)
if master_process:
    print(f"{training_type}: {tokens_per_iter:,} tokens per iteration "
          f"({gradient_accumulation_steps} x {ddp_world_size} x {batch_size} x {block_size})")


def make_generators(*key):
    """A CPU generator (batch offsets) and a device generator (masks, corruption), seeded by key."""
    s = np.random.SeedSequence([seed, *key]).generate_state(2)
    cpu = torch.Generator().manual_seed(int(s[0]))
    dev = torch.Generator(device=device).manual_seed(int(s[1]))
    return cpu, dev


class SamplerChains:
    """size sequences being generated the way sample.py's schedule mode does (diffusion_iterations
    30, linear schedule 1.0 -> 0.1), by the frozen unmasking model and the re-masker in training.
    Each step() advances every chain by one iteration and returns the states it just filled, the
    ones the re-masker is asked to judge. The chains start staggered, so a batch holds states from
    every stage of generation, and restart from all [MASK] when done."""
    T = 30

    def __init__(self, size, generator):
        self.size, self.gen = size, generator
        self.counts = torch.tensor(remask_counts(block_size, self.T, 'linear', 1.0, 0.1), device=device)
        self.x = torch.full((size, block_size), mask_token_id, dtype=torch.long, device=device)
        self.it = torch.arange(size, device=device) % (self.T - 1)  # stagger: chain b starts at iteration b
        self.started = False

    def step(self):
        with judging():
            for _ in range(1 if self.started else self.T - 1):  # the first call runs the chains in
                logits, _ = unmasker(self.x)
                self.x = torch.where(self.x == mask_token_id, sample_tokens(logits, base_vocab_size, 1.0, self.gen), self.x)
                filled = self.x
                logits, _ = raw_model(self.x)
                remask = ranked_first(wrong_probability(logits, wrong_token_id), self.counts[self.it])
                self.x = torch.where(remask, mask_token_id, self.x)
                self.it += 1
                done = self.it >= self.T - 1  # the last iteration's fill is judged by nobody: restart
                self.x = torch.where(done[:, None], mask_token_id, self.x)
                self.it = torch.where(done, 0, self.it)
        self.started = True
        return filled


@contextmanager
def judging():
    """The model in training, briefly used as the sampler's re-masker: eval mode, no gradients,
    the run's autocast; its training mode comes back after."""
    was_training = raw_model.training
    raw_model.eval()
    try:
        with torch.no_grad(), ctx:
            yield
    finally:
        raw_model.train(was_training)


def get_batch(split, cpu_gen, dev_gen):
    """A batch (x, y) of the training objective; y is -1 where no loss is taken."""
    # re-open the memmap every batch: a long-lived one leaks memory (nanoGPT's experience)
    data = np.memmap(os.path.join(data_dir, f'{split}.bin'), dtype=np.uint16, mode='r')
    ix = torch.randint(len(data) - block_size, (batch_size,), generator=cpu_gen)
    chunk = torch.from_numpy(np.stack([data[i:i + block_size + 1] for i in ix.tolist()]).astype(np.int64))
    chunk = chunk.pin_memory().to(device, non_blocking=True) if device_type == 'cuda' else chunk.to(device)  # (B, T+1)
    if training_type == 'autoregressive':
        return chunk[:, :-1].contiguous(), chunk[:, 1:].contiguous()
    clean = chunk[:, :-1]  # (B, T)
    B, T = clean.shape
    if training_type == 'unmasking':
        # t ~ U(0, 1] per sequence and exactly ceil(t*T) masked positions, i.e. a count uniform on
        # {1..T}. Exact counts rather than independent coin flips: the masked share is exactly the
        # drawn one (as in the sampler, which masks exact counts), and no sequence is wasted with
        # nothing masked. Generation starts from all [MASK], which the uniform count reaches only 1/T
        # of the time, so fully_masked_fraction of the sequences are masked entirely besides.
        k = torch.randint(1, T + 1, (B,), device=device, generator=dev_gen)
        full = torch.rand(B, device=device, generator=dev_gen) < fully_masked_fraction
        masked = random_positions(torch.where(full, T, k), T, dev_gen)
        # plain mean over masked positions (no 1/t ELBO weighting as in MDLM/LLaDA): simple, and the
        # loss reads as cross-entropy per predicted character
        return torch.where(masked, mask_token_id, clean), torch.where(masked, clean, -1)
    # remasking: t ~ U[0, 1) and a count uniform on {0..T}; clean sequences (count 0) are included
    # on purpose, since the sampler needs a re-masker that flags nothing in good text
    k = torch.randint(0, T + 1, (B,), device=device, generator=dev_gen)
    picked = random_positions(k, T, dev_gen)
    if remasking_corruption == 'sampler':
        with judging():
            x = sampler_corrupt(clean, picked, base_vocab_size, dev_gen, unmasker, raw_model, mask_token_id,
                                wrong_token_id, remasking_sampler_steps)
    else:
        x = corrupt(clean, picked, base_vocab_size, dev_gen, noise_probs=char_freq)
    if remasking_corruption in ('model', 'mix', 'adversarial'):
        with ctx:
            refilled = corrupt(clean, picked, base_vocab_size, dev_gen, unmasker, mask_token_id)
        by_model = torch.rand(B, 1, device=device, generator=dev_gen) < (
            remasking_mix_fraction if remasking_corruption == 'mix' else 1.0)
        x = torch.where(by_model, refilled, x)
    if remasking_corruption == 'adversarial' and chains.size:
        # the first rows are the latest states of the model's own schedule-mode sampling chains,
        # judged wrong everywhere: text that looks generated is text to re-mask
        fake = chains.step()
        n = fake.size(0)
        return torch.cat([fake, x[n:]]), torch.cat([torch.full_like(fake, wrong_token_id), torch.where(x[n:] != clean[n:], wrong_token_id, clean[n:])])
    # [WRONG] only where the character really changed: a random or sampled replacement can equal the original
    return x, torch.where(x != clean, wrong_token_id, clean)


# the frozen unmasking model that corrupts text for 'model', 'mix' and 'sampler' remasking
unmasker = None
if use_unmasker:
    try:
        unmasker, u_info = load_checkpoint(unmasking_checkpoint, device=device)
    except (FileNotFoundError, ValueError) as e:
        die(f"remasking_corruption={remasking_corruption!r} needs unmasking_checkpoint: {e}")
    if u_info['training_type'] != 'unmasking':
        die(f"unmasking_checkpoint {unmasking_checkpoint} has training_type {u_info['training_type']!r}, not 'unmasking'")
    if u_info['tokenizer'] != tokenizer or u_info['mask_token_id'] != mask_token_id:
        die(f"unmasking_checkpoint {unmasking_checkpoint} was trained on another vocabulary than {data_dir}/meta.json")
    if u_info['model_args']['block_size'] < block_size:
        die(f"unmasking_checkpoint {unmasking_checkpoint} has block_size {u_info['model_args']['block_size']} < {block_size}")
    unmasker.requires_grad_(False)  # frozen, and in eval mode (no dropout) from load_checkpoint
    if compile:
        unmasker = torch.compile(unmasker)

# model
iter_num = 0
best_val_loss = math.inf
model_args = dict(n_layer=n_layer, n_head=n_head, n_embd=n_embd, block_size=block_size, bias=bias,
                  vocab_size=vocab_size, dropout=dropout,
                  attention_type='causal' if training_type == 'autoregressive' else 'bidirectional')
resume_path = os.path.join(out_dir, ckpt_name)
optimizer_state = None
if init_from == 'scratch':
    torch.manual_seed(seed)  # the same initial weights on every process
    model = GPT(GPTConfig(**model_args))
elif init_from != 'resume':
    try:
        model, info = load_checkpoint(init_from, device=device)
    except (FileNotFoundError, ValueError) as e:
        die(f"cannot start from init_from={init_from!r}: {e}")
    if info['training_type'] != training_type or info['tokenizer'] != tokenizer:
        die(f"init_from={init_from!r} is a {info['training_type']!r} model of another vocabulary or objective "
            f"than this {training_type!r} run on {data_dir}")
    model_args = info['model_args']
    if master_process:
        print(f"starting from the weights of {init_from}: {model_args}")
    model.config.dropout = dropout
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = dropout
    model.train()
else:
    try:
        model, info = load_checkpoint(resume_path, device=device)
        # load_checkpoint leaves the optimizer state out; read it here
        optimizer_state = torch.load(resume_path, map_location=device, weights_only=True).get('optimizer')
    except (FileNotFoundError, ValueError) as e:
        die(f"cannot resume: {e}")
    if optimizer_state is None:
        die(f"cannot resume from {resume_path}: it has no optimizer state (a shipped file?)")
    if info['training_type'] != training_type:
        die(f"cannot resume: {resume_path} is a {info['training_type']!r} checkpoint, not {training_type!r}")
    if info['tokenizer'] != tokenizer:
        die(f"cannot resume: {resume_path} was trained on another vocabulary than {data_dir}/meta.json")
    differ = {k: v for k, v in info['model_args'].items() if model_args.get(k) != v}
    if 'block_size' in differ and block_size > differ['block_size']:
        die(f"cannot resume with block_size {block_size}: {resume_path} has block_size {differ['block_size']}")
    if differ and master_process:
        print(f"resuming: the model keeps the checkpoint's {differ}")
    model_args = info['model_args']
    iter_num = info['iter_num']
    best_val_loss = math.inf if info['best_val_loss'] is None else info['best_val_loss']
    model.train()
model.to(device)
if master_process:
    print(f"model: {model.get_num_params() / 1e6:.2f}M parameters, vocabulary {vocab_size} "
          f"({base_vocab_size} characters + [MASK] {mask_token_id} + [WRONG] {wrong_token_id})")

scaler = torch.amp.GradScaler(device_type, enabled=dtype == 'float16')
optimizer = model.configure_optimizers(weight_decay, learning_rate, (beta1, beta2), device_type)
if optimizer_state is not None:
    optimizer.load_state_dict(optimizer_state)
    optimizer_state = None  # free it
flops_per_iter = 3 * model.flops_per_token(block_size) * tokens_per_iter  # forward + backward (2x), trained model only
raw_model = model  # unwrapped from DDP (compiled, if compile): for evaluation and saving
if compile:
    model = raw_model = torch.compile(model)
if ddp:
    model = DDP(model, device_ids=[ddp_local_rank] if device_type == 'cuda' else None)
chains = None  # 'adversarial': the re-masker's own sampling chains, a share of each batch
if training_type == 'remasking' and remasking_corruption == 'adversarial':
    chains = SamplerChains(int(batch_size * remasking_fake_fraction), make_generators(2, ddp_rank)[1])


@torch.no_grad()
def estimate_loss():
    """Mean loss over eval_iters batches of each split, and for a re-masker, its precision and recall
    at flagging changed characters with P([WRONG]) > 0.5. The batches are the same at every
    evaluation (a fixed generator), so successive val losses compare like with like."""
    out = {}
    raw_model.eval()
    for i, split in enumerate(('train', 'val')):
        gens = make_generators(1, i)  # training batches use key (0, rank, iter_num)
        losses = torch.zeros(eval_iters)
        hits = torch.zeros(3, dtype=torch.long, device=device)  # true positives, flagged, actual
        for k in range(eval_iters):
            x, y = get_batch(split, *gens)
            with ctx:
                logits, loss = raw_model(x, y)
            losses[k] = loss.item()
            if training_type == 'remasking':
                flagged = wrong_probability(logits, wrong_token_id) > 0.5
                actual = y == wrong_token_id
                hits += torch.stack([(flagged & actual).sum(), flagged.sum(), actual.sum()])
        out[split] = losses.mean().item()
        if training_type == 'remasking':
            tp, n_flagged, n_actual = hits.tolist()
            out[f'{split}_precision'] = tp / max(n_flagged, 1)
            out[f'{split}_recall'] = tp / max(n_actual, 1)
    raw_model.train()
    return out


def get_lr(it):
    """Linear warmup for warmup_iters, cosine decay to min_lr at lr_decay_iters, then min_lr."""
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    if it > lr_decay_iters:
        return min_lr
    ratio = (it - warmup_iters) / max(lr_decay_iters - warmup_iters, 1)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (learning_rate - min_lr)


def save(path, **kwargs):
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    save_checkpoint(path, raw_model, training_type=training_type, tokenizer=tokenizer,
                    base_vocab_size=base_vocab_size, mask_token_id=mask_token_id, wrong_token_id=wrong_token_id,
                    config=config, iter_num=iter_num,
                    best_val_loss=None if math.isinf(best_val_loss) else best_val_loss, **kwargs)


# training loop: iter_num counts the optimizer steps applied to the weights
torch.manual_seed(seed + ddp_rank)  # dropout
train_gens = make_generators(0, ddp_rank, iter_num)  # a resumed run does not replay the first batches
x, y = get_batch('train', *train_gens)
t0, iter0 = time.time(), iter_num  # step timings: wall time per iteration since (t0, iter0)
while True:
    lr = get_lr(iter_num) if decay_lr else learning_rate
    for group in optimizer.param_groups:
        group['lr'] = lr

    if master_process and (iter_num % eval_interval == 0 or iter_num >= max_iters or eval_only):
        losses = estimate_loss()
        line = f"step {iter_num}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}"
        if training_type == 'remasking':
            line += f", val [WRONG] precision {losses['val_precision']:.3f} recall {losses['val_recall']:.3f} (p > 0.5)"
        print(line)
        improved = losses['val'] < best_val_loss
        best_val_loss = min(best_val_loss, losses['val'])  # the best seen, even when the latest weights are saved
        if iter_num > 0 and not eval_only and (improved or always_save_checkpoint):
            save(resume_path, optimizer=optimizer)
            print(f"saved {resume_path}")
        t0, iter0 = time.time(), iter_num  # keep evaluation out of the step timings
    if iter_num >= max_iters or eval_only:
        break

    for micro_step in range(gradient_accumulation_steps):
        if ddp:  # sync gradients on the last micro-step only
            model.require_backward_grad_sync = micro_step == gradient_accumulation_steps - 1
        with ctx:
            logits, loss = model(x, y)
            loss = loss / gradient_accumulation_steps
        x, y = get_batch('train', *train_gens)  # the next batch, while the device works on this one
        scaler.scale(loss).backward()
    if grad_clip != 0.0:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=True)
    iter_num += 1

    if master_process and iter_num % log_interval == 0:
        lossf = loss.item() * gradient_accumulation_steps  # .item() waits for the device: only here
        dt = (time.time() - t0) / (iter_num - iter0)
        t0, iter0 = time.time(), iter_num
        print(f"iter {iter_num}: loss {lossf:.4f}, lr {lr:.2e}, {dt * 1000:.1f} ms/iter, "
              f"{tokens_per_iter / dt:,.0f} tok/s, {flops_per_iter / dt / 1e12:.2f} TFLOP/s")

if master_process and ship_ckpt_name and not eval_only:
    ship_path = os.path.join(ship_dir, ship_ckpt_name)
    save(ship_path, weights_dtype=torch.float16)
    print(f"shipped the final weights (iter {iter_num}, float16, no optimizer) to {ship_path}: "
          f"{os.path.getsize(ship_path):,} bytes")
if ddp:
    destroy_process_group()
