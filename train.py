"""
Train a GPT for masked diffusion on a character-level corpus: nanoGPT's train.py with four objectives.

    unmasking       bidirectional; part of each sequence is [MASK]ed, predict the originals there
    remasking       bidirectional; predict [WRONG] at the tokens that do not belong and the token itself
                    elsewhere (the remasker that sample.py consults)
    fill_and_judge  both in one model: fill the [MASK]s and judge the visible tokens, so that sample.py
                    runs one forward pass an iteration
    autoregressive  causal next-token prediction on the same data and vocabulary (a quality judge)

    $ python data/shakespeare_char/prepare.py [your_text.txt]     # Shakespeare, or your own text
    $ python train.py config/train_unmasking_cpu.py                # a laptop's unmasker, ~10 minutes
    $ python train.py config/train_unmasking.py --init_from=resume
    $ torchrun --standalone --nproc_per_node=4 train.py config/train_unmasking.py
    $ python train.py --help

A run writes only to out_dir: its checkpoint (full precision and the optimizer's state, for
--init_from=resume) at every evaluation, and at the end its weights in float16, which it names with
the `python sample.py ...` command that samples with them. --ship=True also puts those weights in
checkpoints/ under ship_name, replacing the file there. All objectives share one vocabulary layout:
the corpus characters, then [MASK] and [WRONG] (model.special_token_ids), so any checkpoint can be
used beside any other. Importing this file runs nothing: the objectives are plain functions.
"""

import json
import math
import os
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch.nn import functional as F
from torch.nn.parallel import DistributedDataParallel as DDP

from configurator import configure, knobs, run_main
from model import (
    DTYPES,
    GPT,
    GPTConfig,
    load_checkpoint,
    matmul_peak,
    save_checkpoint,
    special_token_ids,
    wrong_probability,
)
from sample import fill, generate, top_n

# -----------------------------------------------------------------------------
# I/O
out_dir = 'out'  # the run's folder: its checkpoint (for resume) and, at the end, its float16 weights
ckpt_name = 'ckpt.pt'  # the checkpoint's name in out_dir (full precision, the optimizer's state)
ship_name = 'model.pt'  # the float16 weights' name, in out_dir and, with ship=True, in checkpoints/
ship = False  # True: also put the weights in checkpoints/ship_name at the end, replacing the file there
eval_interval = 250  # iterations between evaluations (and checkpoints); also at 0 and at max_iters
log_interval = 10  # iterations between training-loss prints
eval_iters = 50  # batches of each split per evaluation (the same batches every time)
eval_only = False  # evaluate once and exit
always_save_checkpoint = True  # save at every evaluation; False: only when the val loss improves
init_from = 'scratch'  # 'scratch' | 'resume' (out_dir/ckpt_name) | a checkpoint file to start from
# data
data_dir = 'data/shakespeare_char'  # train.bin, val.bin, meta.json by data/shakespeare_char/prepare.py
gradient_accumulation_steps = 1  # micro-batches per optimizer step, over all DDP processes together
batch_size = 64  # sequences per micro-batch per process
block_size = 1024  # tokens per sequence
data_on_device = True  # cut the batches on the training device; False: read each from the .bin files
# model
n_layer = 6  # transformer blocks
n_head = 6  # attention heads; n_embd must be a multiple
n_embd = 384  # width of the residual stream
dropout = 0.1  # 0.0 for tiny runs; more against overfitting
bias = False  # bias in Linears and LayerNorms
pad_vocab_to = 1  # round the vocabulary (characters + [MASK] + [WRONG]) up to a multiple of this
# objective
training_type = 'unmasking'  # 'unmasking' | 'remasking' | 'fill_and_judge' | 'autoregressive'
fully_masked_fraction = 0.01  # unmasking: share of sequences masked whole, beside the uniform draw
loss_weighting = 'token'  # 'token': the mean over masked positions | 'sequence': per sequence (NELBO)
judge_target = 'reread'  # fill_and_judge: 'reread' (the re-reading) | 'own_fill' (its own wrong fills)
judge_weight = 1.0  # fill_and_judge: the judging loss's weight beside the filling loss
unmasking_checkpoint = 'checkpoints/ckpt_unmasking.pt'  # fill_and_judge: the frozen unmasker it learns from
loo_reread = 0.15  # 'reread': share of the visible tokens the frozen unmasker re-reads
pool_size = 256  # 'reread': texts of the project's own sampler, written at the start
pool_share = 0.5  # 'reread': share of sequences taken from those texts (the rest: real text)
# AdamW optimizer
learning_rate = 1e-3  # peak learning rate
max_iters = 5000  # optimizer steps in all; the run ends with an evaluation at max_iters
weight_decay = 1e-1  # on weight matrices and embeddings only
beta1 = 0.9  # AdamW's first beta, for the gradients' average
beta2 = 0.99  # the second, for the squared gradients' average
grad_clip = 1.0  # clip the gradient norm at this value; 0 = off
# learning rate schedule: linear warmup, then cosine decay to min_lr
decay_lr = True  # False: constant learning_rate
warmup_iters = 100  # iterations of linear warmup up to learning_rate
lr_decay_iters = 5000  # usually max_iters
min_lr = 1e-4  # usually learning_rate / 10
# system
backend = ''  # DDP backend; '' = nccl on CUDA, gloo on CPU
device = 'cuda' if torch.cuda.is_available() else 'cpu'  # 'cpu' | 'cuda' | 'cuda:N'; torchrun: LOCAL_RANK's
dtype = 'bfloat16' if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else 'float32'  # or 'float16'
compile = torch.cuda.is_available()  # torch.compile the model (slow to start; pays off on CUDA)
seed = 1337  # same seed, device and settings: the same run (on the CPU; not all CUDA kernels are exact)
profile = False  # run 20 iterations under torch.profiler after 20 warm-up ones, print where time went, stop
# -----------------------------------------------------------------------------
_knobs = knobs(globals())  # the names above: what --key=value, config files and --help may touch
SHIP_DIR = 'checkpoints'  # where --ship=True puts the weights: sample.py's out_dir


# -----------------------------------------------------------------------------
# the objectives: each turns a batch of text into (x, y, w), the model's input, its targets (y = -1
# where no loss is taken) and None, or for a soft target a weight w (B, T) in [0, 1] that puts that
# much of the target on [WRONG] and the rest on y

@dataclass
class Task:
    """What the objectives and corruptions need besides the text."""
    base_vocab_size: int
    mask_token_id: int
    wrong_token_id: int
    fully_masked_fraction: float = 0.0  # unmasking
    corrupt: object = None  # remasking, 'corrupted': one of CORRUPTIONS (training: 'random')
    unmasker: object = None  # the frozen unmasking model of fill_and_judge and of the 'model' corruption
    pool: object = None  # 'reread': (N, >= T) long, texts of the project's own sampler (sampler_pool)
    pool_share: float = 0.5  # 'reread': the share of sequences that draw on the pool
    loo_reread: float = 0.15  # 'reread': the share of each sequence's visible tokens re-read
    judge_target: str = 'reread'  # fill_and_judge: one of JUDGE_TARGETS


def random_positions(counts, length, generator):
    """(B, length) bool with exactly counts[b] True in row b, the positions uniformly at random."""
    u = torch.rand(counts.size(0), length, device=counts.device, generator=generator)
    return top_n(-u, counts)  # the counts[b] lowest draws of each row


def mask_share(B, T, generator, task, device):
    """(B, T) bool: the positions to [MASK], a share t ~ U(0, 1] of each sequence. Exactly ceil(t*T)
    of them, a count uniform on {1..T}, rather than independent coin flips: the masked share is
    exactly the drawn one (as in the sampler, which masks exact counts), and no sequence is wasted
    with nothing masked. Generation starts from all [MASK], which the uniform count reaches only 1/T
    of the time, so fully_masked_fraction of the sequences are masked entirely besides."""
    k = torch.randint(1, T + 1, (B,), device=device, generator=generator)
    full = torch.rand(B, device=device, generator=generator) < task.fully_masked_fraction
    return random_positions(torch.where(full, T, k), T, generator)


def unmasking_batch(chunk, generator, task):
    """[MASK] a share t of each sequence, predict the originals there."""
    clean = chunk[:, :-1]  # (B, T)
    masked = mask_share(*clean.shape, generator, task, clean.device)
    return torch.where(masked, task.mask_token_id, clean), torch.where(masked, clean, -1), None


def remasking_batch(chunk, generator, task):
    """Corrupt a share t of each sequence (task.corrupt: the naive remasker's uniformly random
    characters); predict [WRONG] where a character changed, the character itself elsewhere."""
    clean = chunk[:, :-1]
    B, T = clean.shape
    # a count uniform on {0..T}; clean sequences (count 0) are included on purpose, since the sampler
    # needs a re-masker that flags nothing in good text
    k = torch.randint(0, T + 1, (B,), device=clean.device, generator=generator)
    x = task.corrupt(clean, random_positions(k, T, generator), generator, task)
    # [WRONG] only where the character really changed: a replacement can equal the original
    return x, torch.where(x != clean, task.wrong_token_id, clean), None


def from_pool(clean, generator, task):
    """(B, T) rows of the sampler's texts (task.pool, drawn at random), one for each row of clean."""
    pick = torch.randint(task.pool.size(0), (clean.size(0),), device=clean.device, generator=generator)
    return task.pool[pick, :clean.size(1)]


@torch.no_grad()
def reread_weight(x, read, task):
    """(B, T) the [WRONG] weight of each token of x the frozen unmasking model re-reads: it reads x
    with the `read` positions masked (and x's own [MASK]s), and there w = 1 - P(token) / P(the
    likeliest token), in [0, 1] (the margin: a valid but rare token, as likely as the others there,
    does not raise it); meaningless elsewhere."""
    logits, _ = task.unmasker(torch.where(read, task.mask_token_id, x))
    logp = logits[..., :task.base_vocab_size].float().log_softmax(dim=-1)
    own = logp.gather(-1, x.clamp(max=task.base_vocab_size - 1)[..., None]).squeeze(-1)
    return (1 - (own - logp.max(dim=-1).values).exp()).clamp(0, 1)


# fill_and_judge: one model fills the [MASK]s and judges the visible tokens in the same pass (sample.py
# runs it so: one pass an iteration). A share t of each sequence is [MASK]ed as in unmasking and the
# originals are the targets there; at visible tokens the target is the token itself, or [WRONG] where
# it does not belong, by task.judge_target (JUDGE_TARGETS). (x, y, w) as the other objectives give it;
# the filling and the judging loss are told apart by x: [MASK] or not (fill_and_judge_loss).

@torch.no_grad()
def reread_judge(clean, generator, task):
    """The re-reading as the judge (PRISM's target, as the prism remasker learns it, Kim et al. 2025):
    a share pool_share of the sequences is the project's own sampler's text (the rest real text), and
    a share loo_reread of each sequence's visible tokens is re-read by the frozen unmasking model;
    there the target is [WRONG] with weight w (reread_weight) and the token itself with 1 - w. The
    [MASK]s of the sampler's texts have no target (their originals are the sampler's, not the truth)."""
    B, T = clean.shape
    dev = clean.device
    sampler = torch.rand(B, device=dev, generator=generator) < task.pool_share if task.pool is not None else \
        torch.zeros(B, dtype=torch.bool, device=dev)
    x0 = torch.where(sampler[:, None], from_pool(clean, generator, task), clean) if task.pool is not None else clean
    masked = mask_share(B, T, generator, task, dev)
    x = torch.where(masked, task.mask_token_id, x0)
    visible = ~masked
    n_read = (task.loo_reread * visible.sum(dim=1).double()).round().long()
    read = top_n(torch.where(visible, torch.rand(B, T, device=dev, generator=generator), -1.0), n_read) & visible
    y = torch.where(masked & ~sampler[:, None], clean, -1)
    return x, torch.where(read, x0, y), torch.where(read, reread_weight(x, read, task), 0.0)


@torch.no_grad()
def own_fill_judge(clean, generator, task):
    """The model's own fills as the judge's labels (PRISM's labels, Kim et al. 2025): a share t of
    each sequence is [MASK]ed, the frozen unmasking model fills them (the sampler's fill step), and a
    uniform share of those fills stays in the text, as a sampler's state holds them; the target is
    [WRONG] at a fill that differs from the original, the token where it is right, and the original
    at the [MASK]s left."""
    B, T = clean.shape
    masked = mask_share(B, T, generator, task, clean.device)
    x = torch.where(masked, task.mask_token_id, clean)
    drawn, _, _ = fill(task.unmasker, x, temperature=1.0, mask_token_id=task.mask_token_id,
                       base_vocab_size=task.base_vocab_size, generator=generator)
    share = torch.rand(B, 1, device=clean.device, generator=generator)
    own = masked & (torch.rand(B, T, device=clean.device, generator=generator) < share)
    judged = torch.where(drawn != clean, task.wrong_token_id, clean)
    y = torch.where(own, judged, torch.where(masked, clean, -1))
    return torch.where(own, drawn, x), y, None


JUDGE_TARGETS = {'reread': reread_judge, 'own_fill': own_fill_judge}


def fill_and_judge_batch(chunk, generator, task):
    """A batch of the model that fills and judges, by task.judge_target."""
    return JUDGE_TARGETS[task.judge_target](chunk[:, :-1], generator, task)


def autoregressive_batch(chunk, generator, task):
    """Next-character prediction."""
    return chunk[:, :-1].contiguous(), chunk[:, 1:].contiguous(), None


OBJECTIVES = {'unmasking': unmasking_batch, 'remasking': remasking_batch, 'fill_and_judge': fill_and_judge_batch,
              'autoregressive': autoregressive_batch}


# how the cross-entropy at the positions with a target (y != -1) becomes one loss; with a soft
# target w, each position's loss is (1 - w) * CE(y) + w * CE([WRONG])

def _soft(nll, logits, y, w, wrong_token_id):
    """(B, T) losses at positions with a target: the hard ones (w None), or mixed with [WRONG]'s."""
    if w is None:
        return nll
    nll_wrong = -logits.float().log_softmax(dim=-1)[..., wrong_token_id]
    return torch.where(y != -1, (1 - w) * nll + w * nll_wrong, 0.0)


def token_mean_loss(logits, y, w=None, wrong_token_id=None):
    """The mean over every position of the batch with a target: a sequence counts by how many it has
    (for unmasking, a heavily masked sequence counts more)."""
    if w is None:
        return F.cross_entropy(logits.float().flatten(0, 1), y.flatten(), ignore_index=-1)
    nll = F.cross_entropy(logits.float().transpose(1, 2), y, ignore_index=-1, reduction='none')
    return _soft(nll, logits, y, w, wrong_token_id).sum() / (y != -1).sum().clamp(min=1)


def sequence_mean_loss(logits, y, w=None, wrong_token_id=None):
    """The mean over sequences of each one's mean over its positions with a target (a sequence without
    one does not count; no host sync): with exact mask counts uniform on 1..T, the masked-diffusion
    bound (NELBO) per token that eval.py measures."""
    nll = F.cross_entropy(logits.float().transpose(1, 2), y, ignore_index=-1, reduction='none')  # (B, T)
    nll = _soft(nll, logits, y, w, wrong_token_id)
    count = (y != -1).sum(dim=1)
    has = (count > 0).float()
    return (nll.sum(dim=1) / count.clamp(min=1) * has).sum() / has.sum().clamp(min=1)


LOSSES = {'token': token_mean_loss, 'sequence': sequence_mean_loss}


def fill_and_judge_loss(logits, x, y, w, task, weighting, judge_weight):
    """(total, filling, judging): the filling loss at the [MASK]s by weighting (LOSSES; only the
    sequences with a target there count), plus judge_weight times the judging loss, the mean over the
    visible tokens with a target (soft where w says)."""
    at_mask = x == task.mask_token_id
    fills = torch.where(at_mask, y, -1)
    filling = LOSSES[weighting](logits, fills)
    judging = token_mean_loss(logits, torch.where(at_mask, -1, y), w, task.wrong_token_id)
    return filling + judge_weight * judging, filling, judging


POOL_MODE, POOL_ITERATIONS = 'fill_once_confidence', 59  # the sampler that writes the pool, plain


@torch.no_grad()
def sampler_pool(unmasker, n, length, task, batch_size, generator, log=None):
    """(n, length) long: texts written by the project's own sampler (sample.generate in POOL_MODE at
    its defaults and POOL_ITERATIONS, without self-correction) with the frozen unmasking model,
    batch_size at a time."""
    mode, iterations = POOL_MODE, POOL_ITERATIONS
    texts, t0 = [], time.time()
    for i in range(0, n, batch_size):
        b = min(batch_size, n - i)
        tokens, _ = generate(unmasker, batch_size=b, sequence_length=length, base_vocab_size=task.base_vocab_size,
                             mask_token_id=task.mask_token_id, wrong_token_id=task.wrong_token_id, mode=mode,
                             diffusion_iterations=iterations, generator=generator,
                             correction_passes=0)  # plain: the texts the shipped remaskers were trained on
        texts.append(tokens)
    if log:
        log(f"the sampler's texts: {n} of {length} characters, {mode} with {iterations} iterations, "
            f"{time.time() - t0:.1f}s")
    return torch.cat(texts)


# the corruptions: each replaces the picked positions (B, T) bool of clean (B, T); a remasker trains on
# 'random' (the naive remasker), eval.py's diagnostics corrupt by both

def corrupt_random(clean, picked, generator, task):
    """Uniformly random characters: the naive remasker's training data."""
    noise = torch.randint(0, task.base_vocab_size, clean.shape, device=clean.device, generator=generator)
    return torch.where(picked, noise, clean)


@torch.no_grad()
def corrupt_model(clean, picked, generator, task):
    """The unmasking model's own samples (temperature 1): the picked positions are [MASK]ed and filled
    by the sampler's fill step, so these are the mistakes that model really makes (eval.py's remasker
    diagnostics; as a training corruption it lost to PRISM, RESULTS.md)."""
    filled, _, _ = fill(task.unmasker, torch.where(picked, task.mask_token_id, clean), temperature=1.0,
                        mask_token_id=task.mask_token_id, base_vocab_size=task.base_vocab_size, generator=generator)
    return filled


CORRUPTIONS = {'random': corrupt_random, 'model': corrupt_model}


# -----------------------------------------------------------------------------
# the run

def get_lr(it):
    """Linear warmup for warmup_iters, cosine decay to min_lr at lr_decay_iters, then min_lr."""
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    if it > lr_decay_iters:
        return min_lr
    ratio = (it - warmup_iters) / max(lr_decay_iters - warmup_iters, 1)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (learning_rate - min_lr)


CHOICES = {'training_type': OBJECTIVES, 'loss_weighting': LOSSES, 'judge_target': JUDGE_TARGETS, 'dtype': DTYPES}
AT_LEAST_1 = ('batch_size', 'block_size', 'n_layer', 'n_head', 'n_embd', 'eval_interval', 'log_interval', 'eval_iters',
              'gradient_accumulation_steps', 'pad_vocab_to', 'pool_size')
AT_LEAST_0 = ('max_iters', 'warmup_iters', 'lr_decay_iters')
RANGES = {'dropout': '[0, 1)', 'fully_masked_fraction': '[0, 1]', 'loo_reread': '(0, 1]', 'pool_share': '[0, 1]',
          'beta1': '[0, 1)', 'beta2': '[0, 1)'}  # the interval each must lie in


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_knobs():
    """Raise ValueError for any knob this run cannot honour, before anything is loaded or written."""
    g = globals()
    for name, table in CHOICES.items():
        if g[name] not in table:
            raise ValueError(f"unknown {name} {g[name]!r}; choose one of {', '.join(table)}")
    for name in AT_LEAST_1 + AT_LEAST_0:
        low = 1 if name in AT_LEAST_1 else 0
        if not _is_int(g[name]) or g[name] < low:
            raise ValueError(f"{name} must be an integer of at least {low}, got {g[name]!r}")
    for name, interval in RANGES.items():
        v = g[name]
        if not _is_number(v) or not 0 <= v <= 1 or v == 0 and interval[0] == '(' or v == 1 and interval[-1] == ')':
            raise ValueError(f"{name} must lie in {interval}, got {v!r}")
    for name in ('learning_rate', 'judge_weight'):
        if not _is_number(g[name]) or g[name] <= 0:
            raise ValueError(f"{name} must be a number above 0, got {g[name]!r}")
    for name in ('min_lr', 'weight_decay', 'grad_clip'):
        if not _is_number(g[name]) or g[name] < 0:
            raise ValueError(f"{name} must be a number of at least 0, got {g[name]!r}")
    if min_lr > learning_rate:
        raise ValueError(f"min_lr ({min_lr}) must not exceed learning_rate ({learning_rate})")
    if n_embd % n_head:
        raise ValueError(f"n_embd ({n_embd}) must be a multiple of n_head ({n_head}): a head is n_embd / n_head wide")
    check_files()


def check_files():
    """The knobs that name files: what they name exists, and what the run will write can be written."""
    if init_from not in ('scratch', 'resume') and not os.path.isfile(init_from):
        raise ValueError(f"init_from={init_from!r} is neither 'scratch', 'resume' nor an existing checkpoint file")
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but CUDA is not available here; use --device=cpu, or on "
                         f"a laptop the CPU recipes config/train_unmasking_cpu.py and config/train_remasking_cpu.py")
    if not ship_name or os.path.basename(ship_name) != ship_name or not ship_name.endswith('.pt'):
        raise ValueError(f"ship_name must be a file name ending in .pt (no folder), got {ship_name!r}")
    if os.path.join(out_dir, ckpt_name) == os.path.join(out_dir, ship_name):
        raise ValueError(f"ckpt_name and ship_name are both {ckpt_name!r}: the weights would overwrite the checkpoint")
    if ship and not os.access(SHIP_DIR if os.path.isdir(SHIP_DIR) else '.', os.W_OK):
        raise ValueError(f"ship=True writes to {SHIP_DIR}/, which cannot be written here")
    for f in ('meta.json', 'train.bin', 'val.bin'):
        if not os.path.isfile(os.path.join(data_dir, f)):
            raise FileNotFoundError(f"{os.path.join(data_dir, f)} not found; make the data first: python "
                                    f"data/shakespeare_char/prepare.py [your_text.txt] (it writes data/<name>/)")
    for split in ('train', 'val'):
        n = os.path.getsize(os.path.join(data_dir, f'{split}.bin')) // 2
        if n < block_size + 1:
            raise ValueError(f"{data_dir}/{split}.bin holds {n} tokens, fewer than block_size + 1 = {block_size + 1}; "
                             f"lower block_size, or give more text")


def uses_pool():
    """Whether this run reads texts of the project's own sampler."""
    return training_type == 'fill_and_judge' and judge_target == 'reread'


def needs_unmasker():
    """Whether this run reads the frozen unmasking model (and which knob asks for it)."""
    if training_type == 'fill_and_judge':
        return f"training_type='fill_and_judge' (judge_target={judge_target!r})"
    return None


def load_unmasker(tokenizer, mask_token_id, device):
    """The frozen unmasking model of fill_and_judge and the sampler's texts, checked against this run's
    data."""
    try:
        unmasker, info = load_checkpoint(unmasking_checkpoint, device=device)
    except (FileNotFoundError, ValueError) as e:
        raise ValueError(f"{needs_unmasker()} needs unmasking_checkpoint: {e}") from None
    if info['training_type'] != 'unmasking':
        raise ValueError(f"unmasking_checkpoint {unmasking_checkpoint} has training_type "
                         f"{info['training_type']!r}, not 'unmasking'")
    if info['tokenizer'] != tokenizer or info['mask_token_id'] != mask_token_id:
        raise ValueError(f"unmasking_checkpoint {unmasking_checkpoint} was trained on another vocabulary than "
                         f"{data_dir}/meta.json")
    if info['model_args']['block_size'] < block_size:
        raise ValueError(f"unmasking_checkpoint {unmasking_checkpoint} has block_size "
                         f"{info['model_args']['block_size']} < {block_size}")
    return unmasker.requires_grad_(False)  # frozen, and in eval mode (no dropout) from load_checkpoint


def start_from(path, tokenizer, device, log):
    """The model of the checkpoint init_from names, to fine-tune in a new run, in training mode."""
    try:
        model, info = load_checkpoint(path, device=device)
    except (FileNotFoundError, ValueError) as e:
        raise ValueError(f"cannot start from init_from={path!r}: {e}") from None
    kin = info['training_type'] == training_type or \
        info['training_type'] == 'unmasking' and training_type in ('remasking', 'fill_and_judge')
    if not kin or info['tokenizer'] != tokenizer:  # a remasker may start from an unmasking model (PRISM-style)
        raise ValueError(f"init_from={path!r} is a {info['training_type']!r} model of another vocabulary or "
                         f"objective than this {training_type!r} run on {data_dir}")
    log(f"starting from the weights of {path}: {info['model_args']}")
    model.config.dropout = dropout
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = dropout
    return model.train()


def init_model(vocab_size, tokenizer, resume_path, device, log):
    """The model to train and where its run starts, by init_from: (model in training mode, iteration,
    best val loss so far, the optimizer's state to load or None)."""
    model_args = dict(n_layer=n_layer, n_head=n_head, n_embd=n_embd, block_size=block_size, bias=bias,
                      vocab_size=vocab_size, dropout=dropout,
                      attention_type='causal' if training_type == 'autoregressive' else 'bidirectional')
    if init_from == 'scratch':
        torch.manual_seed(seed)  # the same initial weights on every process
        return GPT(GPTConfig(**model_args)), 0, math.inf, None
    if init_from != 'resume':
        return start_from(init_from, tokenizer, device, log), 0, math.inf, None
    try:
        model, info = load_checkpoint(resume_path, device=device)
        # load_checkpoint leaves the optimizer state out; read it here
        optimizer_state = torch.load(resume_path, map_location=device, weights_only=True).get('optimizer')
    except (FileNotFoundError, ValueError) as e:
        raise ValueError(f"cannot resume: {e}") from None
    if optimizer_state is None:
        raise ValueError(f"cannot resume from {resume_path}: it has no optimizer state (a shipped file?)")
    if info['training_type'] != training_type:
        raise ValueError(f"cannot resume: {resume_path} is a {info['training_type']!r} checkpoint, "
                         f"not {training_type!r}")
    if info['tokenizer'] != tokenizer:
        raise ValueError(f"cannot resume: {resume_path} was trained on another vocabulary than {data_dir}/meta.json")
    differ = {k: v for k, v in info['model_args'].items() if model_args.get(k) != v}
    if 'block_size' in differ and block_size > differ['block_size']:
        raise ValueError(f"cannot resume with block_size {block_size}: {resume_path} has block_size "
                         f"{differ['block_size']}")
    if differ:
        log(f"resuming: the model keeps the checkpoint's {differ}")
    best = math.inf if info['best_val_loss'] is None else info['best_val_loss']
    return model.train(), info['iter_num'], best, optimizer_state


@dataclass
class Env:
    """Where and how this process trains (torchrun sets RANK, LOCAL_RANK and WORLD_SIZE)."""
    ddp: bool
    rank: int
    local_rank: int
    world: int
    dev: str
    accumulation: int  # micro-steps per optimizer step on this process
    ctx: object  # autocast, or nothing in float32

    @property
    def master(self):
        return self.rank == 0

    @property
    def device_type(self):
        return 'cuda' if self.dev.startswith('cuda') else 'cpu'

    @property
    def tokens_per_iter(self):
        return self.accumulation * self.world * batch_size * block_size

    def log(self, *a, **k):
        if self.master:
            print(*a, **k, flush=True)


def setup():
    """The process's Env: joins the process group under torchrun."""
    ddp = int(os.environ.get('RANK', -1)) != -1
    rank, local_rank, world, dev, accumulation = 0, 0, 1, device, gradient_accumulation_steps
    if ddp:
        dist.init_process_group(backend=backend or ('nccl' if device.startswith('cuda') else 'gloo'))
        rank, local_rank, world = (int(os.environ[k]) for k in ('RANK', 'LOCAL_RANK', 'WORLD_SIZE'))
        if device.startswith('cuda'):
            dev = f'cuda:{local_rank}'
            torch.cuda.set_device(dev)
        if accumulation % world:
            raise ValueError(f"gradient_accumulation_steps={accumulation} must be a multiple of the {world} processes")
        accumulation //= world
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    device_type = 'cuda' if dev.startswith('cuda') else 'cpu'
    ctx = nullcontext() if dtype == 'float32' else torch.amp.autocast(device_type=device_type, dtype=DTYPES[dtype])
    return Env(ddp, rank, local_rank, world, dev, accumulation, ctx)


def make_task(env):
    """(the task: the vocabulary and what the objective reads, the tokenizer as plain data, vocab_size)."""
    with open(os.path.join(data_dir, 'meta.json'), encoding='utf-8') as f:
        chars = json.load(f)['chars']
    tokenizer = {'type': 'char', 'chars': chars}
    mask_token_id, wrong_token_id, vocab_size = special_token_ids(len(chars), pad_to=pad_vocab_to)
    task = Task(base_vocab_size=len(chars), mask_token_id=mask_token_id, wrong_token_id=wrong_token_id,
                fully_masked_fraction=fully_masked_fraction, corrupt=corrupt_random,
                pool_share=pool_share, loo_reread=loo_reread, judge_target=judge_target)
    if needs_unmasker():
        unmasker = load_unmasker(tokenizer, mask_token_id, env.dev)
        if uses_pool():  # the sampler's texts, the same on a resume
            pool_gen = torch.Generator(device=env.dev).manual_seed(
                int(np.random.SeedSequence([seed, 3, env.rank]).generate_state(1)[0]))
            with env.ctx:
                task.pool = sampler_pool(unmasker, pool_size, block_size, task, batch_size, pool_gen, env.log)
        task.unmasker = torch.compile(unmasker) if compile else unmasker
    return task, tokenizer, vocab_size


class Batches:
    """Every batch of the run as a function of (seed, process, iteration, micro-step) alone, so that a
    run resumed at any saved iteration goes on exactly as it would have gone without stopping."""

    def __init__(self, env, task):
        self.env, self.task, self.make = env, task, OBJECTIVES[training_type]
        # a character corpus is small (Shakespeare: 19 MB as int32), so by default it lives on the device
        # and a batch costs no host work, copy or sync
        self.held = {split: torch.from_numpy(np.fromfile(os.path.join(data_dir, f'{split}.bin'), dtype=np.uint16)
                                             .astype(np.int32)).to(env.dev)
                     for split in ('train', 'val')} if data_on_device else None
        self.window = torch.arange(block_size + 1, device=env.dev)

    def generators(self, *key):
        """A CPU generator (batch offsets) and a device generator (masks, corruption), seeded by key."""
        s = np.random.SeedSequence([seed, *key]).generate_state(2)
        return torch.Generator().manual_seed(int(s[0])), torch.Generator(device=self.env.dev).manual_seed(int(s[1]))

    def train(self, it, micro_step):
        """The batch of a training micro-step, and dropout's seed for it."""
        torch.manual_seed(int(np.random.SeedSequence([seed, 2, self.env.rank, it, micro_step]).generate_state(1)[0]))
        return self.get('train', *self.generators(0, self.env.rank, it, micro_step))

    def get(self, split, cpu_gen, dev_gen):
        if self.held:
            data = self.held[split]
            ix = torch.randint(len(data) - block_size, (batch_size,), device=self.env.dev, generator=dev_gen)
            chunk = data[ix[:, None] + self.window].long()
        else:  # re-open the memmap every batch: a long-lived one leaks memory (nanoGPT's experience)
            data = np.memmap(os.path.join(data_dir, f'{split}.bin'), dtype=np.uint16, mode='r')
            ix = torch.randint(len(data) - block_size, (batch_size,), generator=cpu_gen)
            chunk = torch.from_numpy(np.stack([data[i:i + block_size + 1] for i in ix.tolist()]).astype(np.int64))
            chunk = chunk.pin_memory().to(self.env.dev, non_blocking=True) if self.env.device_type == 'cuda' \
                else chunk.to(self.env.dev)
        return self.make(chunk, dev_gen, self.task)  # chunk: (B, T+1)


def loss_of(logits, x, y, w, task):
    """(the loss, its parts: (filling, judging) for fill_and_judge, else None)."""
    if training_type == 'fill_and_judge':
        total, filling, judging = fill_and_judge_loss(logits, x, y, w, task, loss_weighting, judge_weight)
        return total, (filling, judging)
    return LOSSES[loss_weighting](logits, y, w, task.wrong_token_id), None


@torch.no_grad()
def estimate_loss(model, batches, env, task):
    """Mean loss over eval_iters batches of each split (and its parts), and for a model that judges its
    precision and recall at flagging [WRONG] with P([WRONG]) > 0.5 at visible tokens. The batches are
    the same at every evaluation (a fixed generator), so successive val losses compare like with like."""
    out, judges = {}, training_type in ('remasking', 'fill_and_judge')
    model.eval()
    for i, split in enumerate(('train', 'val')):
        gens = batches.generators(1, i)  # training batches use keys (0, rank, iteration, micro-step)
        losses = torch.zeros(eval_iters, 3)  # the loss and, for fill_and_judge, its two parts
        hits = torch.zeros(3, dtype=torch.long, device=env.dev)  # true positives, flagged, actual
        for k in range(eval_iters):
            x, y, w = batches.get(split, *gens)
            with env.ctx:
                logits, _ = model(x)
            loss, parts = loss_of(logits, x, y, w, task)
            losses[k] = torch.tensor([loss.item(), *(t.item() for t in parts)] if parts else [loss.item(), 0, 0])
            if judges:  # a fill_and_judge model's [MASK]s are no judgment
                y = torch.where(x == task.mask_token_id, -1, y) if training_type == 'fill_and_judge' else y
                flagged = (wrong_probability(logits, task.wrong_token_id) > 0.5) & (y != -1)
                actual = y == task.wrong_token_id if w is None else (y != -1) & (w > 0.5)
                hits += torch.stack([(flagged & actual).sum(), flagged.sum(), actual.sum()])
        out[split], out[f'{split}_fill'], out[f'{split}_judge'] = losses.mean(dim=0).tolist()
        if judges:
            tp, n_flagged, n_actual = hits.tolist()
            out[f'{split}_precision'], out[f'{split}_recall'] = tp / max(n_flagged, 1), tp / max(n_actual, 1)
    model.train()
    return out


def evaluation_line(it, losses):
    line = f"step {it}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}"
    if training_type == 'fill_and_judge':
        line += f" (filling {losses['val_fill']:.4f}, judging {losses['val_judge']:.4f})"
    if 'val_precision' in losses:
        line += f", val [WRONG] precision {losses['val_precision']:.3f} recall {losses['val_recall']:.3f} (p > 0.5)"
    return line


def sample_command(path):
    """The command that uses the weights at path (printed at the end of a run)."""
    if training_type == 'autoregressive':
        return f"python eval.py --judge_name={path} --data_dir={data_dir}"
    if training_type == 'unmasking':  # alone: the shipped remasker suits the shipped unmasker only
        return f"python sample.py config/sample_self_correction.py --checkpoint_name={path}"
    if training_type == 'fill_and_judge':
        return f"python sample.py --checkpoint_name={path} --remasking_checkpoint_name={path}"
    return f"python sample.py --checkpoint_name=<your unmasking model> --remasking_checkpoint_name={path}"


class Trainer:
    """The model, its optimizer and the run's place: what the training loop and its checkpoints share."""

    def __init__(self, env, task, tokenizer, vocab_size):
        self.env, self.task, self.tokenizer = env, task, tokenizer
        self.resume_path = os.path.join(out_dir, ckpt_name)
        model, self.iter_num, self.best, optimizer_state = init_model(vocab_size, tokenizer, self.resume_path,
                                                                      env.dev, env.log)
        model.to(env.dev)
        env.log(f"model: {model.get_num_params() / 1e6:.2f}M parameters, vocabulary {vocab_size} "
                f"({task.base_vocab_size} characters + [MASK] {task.mask_token_id} + [WRONG] {task.wrong_token_id})")
        self.scaler = torch.amp.GradScaler(env.device_type, enabled=dtype == 'float16')
        self.optimizer = model.configure_optimizers(weight_decay, learning_rate, (beta1, beta2), env.device_type)
        if optimizer_state is not None:
            self.optimizer.load_state_dict(optimizer_state)
        self.tokens_per_iter = env.tokens_per_iter
        self.flops_per_iter = 3 * model.flops_per_token(block_size) * env.tokens_per_iter  # forward + backward (2x)
        self.peak = matmul_peak(env.dev, DTYPES[dtype]) if env.device_type == 'cuda' else None  # for MFU
        self.raw = torch.compile(model) if compile else model  # for evaluation and saving
        self.model = DDP(self.raw, device_ids=[env.local_rank] if env.device_type == 'cuda' else None) \
            if env.ddp else self.raw
        self.saved = None  # (path, iteration) of the last checkpoint this run wrote

    def save(self, path, **kwargs):
        os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
        save_checkpoint(path, self.raw, training_type=training_type, tokenizer=self.tokenizer,
                        base_vocab_size=self.task.base_vocab_size, mask_token_id=self.task.mask_token_id,
                        wrong_token_id=self.task.wrong_token_id, config={k: globals()[k] for k in _knobs},
                        iter_num=self.iter_num, best_val_loss=None if math.isinf(self.best) else self.best, **kwargs)

    def evaluate(self, batches):
        """An evaluation on process 0, and the checkpoint it may write."""
        losses = estimate_loss(self.raw, batches, self.env, self.task)
        print(evaluation_line(self.iter_num, losses), flush=True)
        improved = losses['val'] < self.best
        self.best = min(self.best, losses['val'])  # the best seen, even when the latest weights are saved
        if self.iter_num > 0 and not eval_only and (improved or always_save_checkpoint):
            self.save(self.resume_path, optimizer=self.optimizer)
            self.saved = (self.resume_path, self.iter_num)
            print(f"saved {self.resume_path}", flush=True)

    def step(self, batch, batches):
        """One optimizer step over accumulation micro-steps; returns the next batch and the last loss."""
        x, y, w = batch
        for micro_step in range(self.env.accumulation):
            if self.env.ddp:  # sync gradients on the last micro-step only
                self.model.require_backward_grad_sync = micro_step == self.env.accumulation - 1
            with self.env.ctx:
                logits, _ = self.model(x)
                loss = loss_of(logits, x, y, w, self.task)[0] / self.env.accumulation
            # the next batch, while the device works on this one
            last = micro_step + 1 == self.env.accumulation
            x, y, w = batches.train(*((self.iter_num + 1, 0) if last else (self.iter_num, micro_step + 1)))
            self.scaler.scale(loss).backward()
        if grad_clip != 0.0:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.iter_num += 1
        return (x, y, w), loss

    def speed_line(self, loss, lr, dt):
        mfu = f", MFU {self.flops_per_iter / dt / self.peak:.1%}" if self.peak else ''
        return (f"iter {self.iter_num}: loss {loss.item() * self.env.accumulation:.4f}, lr {lr:.2e}, "
                f"{dt * 1000:.1f} ms/iter, {self.tokens_per_iter / dt:,.0f} tok/s, "
                f"{self.flops_per_iter / dt / 1e12:.2f} TFLOP/s{mfu}")


def profile_report(profiler, t_prof, device_type):
    """Where 20 iterations under torch.profiler spent their time (a profiling run saves nothing)."""
    if device_type == 'cuda':
        torch.cuda.synchronize()
    wall = time.time() - t_prof
    profiler.__exit__(None, None, None)
    print(f"profile of 20 iterations: {wall * 1000 / 20:.1f} ms/iter wall")
    print(profiler.key_averages().table(sort_by='self_cuda_time_total' if device_type == 'cuda' else
                                        'self_cpu_time_total', row_limit=25, max_name_column_width=60))


def train(trainer, batches):
    """The training loop: iter_num counts the optimizer steps applied to the weights. Returns False
    for a profiling run, which saves and ships nothing."""
    env = trainer.env
    batch = batches.train(trainer.iter_num, 0)
    t0, iter0, first = time.time(), trainer.iter_num, trainer.iter_num  # step timings since (t0, iter0)
    profiler = None
    while True:
        if profile and env.master and trainer.iter_num == first + 20:
            profiler = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU] + (
                [torch.profiler.ProfilerActivity.CUDA] if env.device_type == 'cuda' else []))
            profiler.__enter__()
            t_prof = time.time()
        if profiler is not None and trainer.iter_num == first + 40:
            profile_report(profiler, t_prof, env.device_type)
            return False
        lr = get_lr(trainer.iter_num) if decay_lr else learning_rate
        for group in trainer.optimizer.param_groups:
            group['lr'] = lr
        if env.master and (trainer.iter_num % eval_interval == 0 or trainer.iter_num >= max_iters or eval_only):
            trainer.evaluate(batches)
            t0, iter0 = time.time(), trainer.iter_num  # keep evaluation out of the step timings
        if trainer.iter_num >= max_iters or eval_only:
            return True
        batch, loss = trainer.step(batch, batches)
        if env.master and trainer.iter_num % log_interval == 0:
            dt = (time.time() - t0) / (trainer.iter_num - iter0)  # .item() below waits for the device: only here
            t0, iter0 = time.time(), trainer.iter_num
            print(trainer.speed_line(loss, lr, dt), flush=True)


def finish(trainer):
    """The run's float16 weights in out_dir, in checkpoints/ too when asked (ship=True), and the command
    that samples with them."""
    path = os.path.join(out_dir, ship_name)
    trainer.save(path, weights_dtype=torch.float16)
    print(f"wrote the final weights (iteration {trainer.iter_num}, float16) to {path}: {os.path.getsize(path):,} bytes")
    if ship:
        shipped = os.path.join(SHIP_DIR, ship_name)
        replaced = os.path.isfile(shipped)
        os.makedirs(SHIP_DIR, exist_ok=True)
        trainer.save(shipped, weights_dtype=torch.float16)  # written whole, then moved into place
        print(f"shipped them to {shipped}" + (f", replacing the file there (git checkout -- {shipped} restores a "
                                             f"tracked one)" if replaced else ''))
        path = shipped
    print(f"sample with them: {sample_command(path)}")


def interrupted(trainer):
    """The line Ctrl-C leaves: where the run stopped and the last whole checkpoint it wrote."""
    if trainer is None:
        return "interrupted before training started: nothing was written"
    if trainer.saved:
        path, it = trainer.saved
        return (f"interrupted at iteration {trainer.iter_num}; the last checkpoint, {path}, holds iteration {it} "
                f"whole: go on with --init_from=resume")
    return f"interrupted at iteration {trainer.iter_num}, before the first checkpoint: nothing was written"


def main(argv):
    configure(globals(), argv, keys=_knobs)
    check_knobs()  # 1) every knob, before anything is loaded or written
    env = setup()  # 2) the process: DDP, device, precision
    trainer = None
    try:
        task, tokenizer, vocab_size = make_task(env)  # 3) the data and what the objective reads
        what = judge_target if training_type == 'fill_and_judge' else ''
        env.log(f"{training_type}{f' ({what})' if what else ''}: {env.tokens_per_iter:,} tokens per iteration "
                f"({env.accumulation} x {env.world} x {batch_size} x {block_size})")
        batches = Batches(env, task)
        trainer = Trainer(env, task, tokenizer, vocab_size)  # 4) the model and its optimizer
        if train(trainer, batches) and env.master and not eval_only:  # 5) the loop
            finish(trainer)  # 6) the weights
    except KeyboardInterrupt:
        raise KeyboardInterrupt(interrupted(trainer)) from None


if __name__ == '__main__':
    code = 0
    try:
        run_main(main, sys.argv[1:])
    except SystemExit as e:
        code = e.code
    if dist.is_initialized():
        dist.destroy_process_group()
        # Under DDP, end the process here, without Python's interpreter teardown. Each gradient
        # all-reduce that DDP starts inside backward() holds a copy of the Python context, and gloo's
        # worker thread frees that work only after handing the result back, which takes the GIL. A
        # process that reaches teardown first (usually rank 1, which skips the final evaluation) has
        # that thread killed while it waits for the GIL, inside a C++ destructor: "terminate called
        # without an active exception", SIGABRT. destroy_process_group does not join those threads,
        # and a barrier only moves the race. Everything is written by now: flush and go.
        if isinstance(code, str):  # sys.exit('error: ...')
            print(code, file=sys.stderr)
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code or 0)
    sys.exit(code)
