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
(model.special_token_ids), so any of the checkpoints can be used beside any other. Importing this
file runs nothing: the objectives and corruptions below are plain functions (eval.py uses them).
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
from model import (DTYPES, GPT, GPTConfig, load_checkpoint, matmul_peak, save_checkpoint, special_token_ids,
                   wrong_probability)
from sample import MODES, NEEDS_REMASKER, fill, generate, top_n

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
init_from = 'scratch'  # 'scratch' | 'resume' (out_dir/ckpt_name) | a checkpoint file whose weights start a new run
# data
data_dir = 'data/shakespeare_char'  # train.bin, val.bin, meta.json written by prepare.py
gradient_accumulation_steps = 1  # micro-batches per optimizer step, over all DDP processes together
batch_size = 64  # sequences per micro-batch per process
block_size = 1024  # tokens per sequence
data_on_device = True  # hold both splits on the training device and cut the batches there; False: read each batch from the .bin files
# model
n_layer = 6  # transformer blocks
n_head = 6  # attention heads; n_embd must be a multiple
n_embd = 384  # width of the residual stream
dropout = 0.1  # 0.0 for tiny runs; more against overfitting
bias = False  # bias in Linears and LayerNorms
pad_vocab_to = 1  # round the vocabulary (characters + [MASK] + [WRONG]) up to a multiple of this
# objective
training_type = 'unmasking'  # 'unmasking' | 'remasking' | 'fill_and_judge' | 'autoregressive' (OBJECTIVES)
fully_masked_fraction = 0.01  # unmasking: share of sequences masked entirely, on top of the uniform draw
loss_weighting = 'token'  # unmasking: 'token' = mean over every masked position of the batch | 'sequence' = each sequence's mean, then their mean (the NELBO)
judge_target = 'reread'  # fill_and_judge: what [WRONG] means at a visible token (JUDGE_TARGETS): 'reread' (the unmasking model re-reading it) | 'own_fill' (its own fill, where it differs from the original)
judge_weight = 1.0  # fill_and_judge: the judging loss's weight beside the filling loss
remasking_target = 'corrupted'  # remasking: what [WRONG] means (TARGETS): 'corrupted' (the corruption changed the character) | 'loo' (the unmasking model re-reading it) | 'critic' (the sampler wrote it)
max_corrupted = 1.0  # remasking, 'corrupted': each sequence's corrupted share is uniform on [0, max_corrupted] (1.0: any share)
remasking_corruption = 'random'  # remasking, 'corrupted': 'random' (uniform characters) | 'model' (unmasking_checkpoint's samples)
unmasking_checkpoint = 'checkpoints/ckpt_unmasking.pt'  # the frozen unmasking model of the 'model' corruption, of 'loo' and of the sampler's texts (a path)
loo_reread = 0.15  # 'loo': the share of each sequence masked for the unmasking model to re-read (the loss is taken there)
loo_score = 'margin'  # 'loo': the [WRONG] target at a re-read token: 'probability' (1 - P(token)) | 'margin' (1 - P(token) / P(the likeliest token))
pool_size = 256  # 'loo', 'critic': texts of the project's own sampler, written at the start of the run (at least 1)
pool_mode = 'fill_once_confidence'  # the sampler that writes them (a sample.MODES mode that needs no remasker), at its defaults, plain
pool_iterations = 59  # its diffusion_iterations
pool_share = 0.5  # 'loo': the share of sequences drawn from the sampler's texts (the rest is real text); 'critic': of sequences holding a span of them
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
profile = False  # after 20 warm-up iterations, run 20 under torch.profiler, print where their time went, and stop
# -----------------------------------------------------------------------------
_knobs = knobs(globals())  # the names above: what --key=value, config files and --help may touch


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
    target: str = 'corrupted'  # remasking: one of TARGETS
    corrupt: object = None  # remasking, 'corrupted': one of CORRUPTIONS
    max_corrupted: float = 1.0  # remasking, 'corrupted': the corrupted share is uniform on [0, max_corrupted]
    unmasker: object = None  # the frozen unmasking model of the 'model' corruption and of 'loo'
    pool: object = None  # 'loo', 'critic': (N, >= T) long, texts of the project's own sampler (sampler_pool)
    pool_share: float = 0.5  # 'loo', 'critic': the share of sequences that draw on the pool
    loo_reread: float = 0.15  # 'loo': the share of each sequence re-read
    loo_score: str = 'margin'  # 'loo': 'probability' | 'margin'
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
    """A remasker's batch: the text it judges and what [WRONG] means there, by task.target (TARGETS)."""
    return TARGETS[task.target](chunk[:, :-1], generator, task)


def corrupted_target(clean, generator, task):
    """Corrupt a share t of each sequence (task.corrupt); predict [WRONG] where a character changed,
    the character itself elsewhere."""
    B, T = clean.shape
    # t ~ U[0, max_corrupted) and a count uniform on {0..round(max_corrupted T)}; clean sequences
    # (count 0) are included on purpose, since the sampler needs a re-masker that flags nothing in
    # good text
    k = torch.randint(0, round(task.max_corrupted * T) + 1, (B,), device=clean.device, generator=generator)
    x = task.corrupt(clean, random_positions(k, T, generator), generator, task)
    # [WRONG] only where the character really changed: a replacement can equal the original
    return x, torch.where(x != clean, task.wrong_token_id, clean), None


def from_pool(clean, generator, task):
    """(B, T) rows of the sampler's texts (task.pool, drawn at random), one for each row of clean."""
    pick = torch.randint(task.pool.size(0), (clean.size(0),), device=clean.device, generator=generator)
    return task.pool[pick, :clean.size(1)]


@torch.no_grad()
def loo_target(clean, generator, task):
    """Leave-one-out distillation (informed correctors, Zhao et al. 2024): the text is the sampler's
    own (a share pool_share of the sequences) or real; a share loo_reread of each is masked and the
    frozen unmasking model reads it, as self-correction re-reads; there the target is [WRONG] with
    weight w and the token itself with 1 - w, where w = 1 - P(token) ('probability') or 1 -
    P(token) / P(the likeliest token) ('margin', which a valid but rare token, as likely as the
    others there, does not raise). The remasker learns in one pass what the re-reading knows."""
    B, T = clean.shape
    sampler = torch.rand(B, device=clean.device, generator=generator) < task.pool_share
    x = torch.where(sampler[:, None], from_pool(clean, generator, task), clean)
    read = random_positions(torch.full((B,), round(task.loo_reread * T), device=clean.device), T, generator)
    return x, torch.where(read, x, -1), torch.where(read, reread_weight(x, read, task), 0.0)


@torch.no_grad()
def reread_weight(x, read, task):
    """(B, T) the [WRONG] weight of each token of x the frozen unmasking model re-reads: it reads x
    with the `read` positions masked (and x's own [MASK]s), and w = 1 - P(token) ('probability') or
    1 - P(token) / P(the likeliest token) ('margin') there, in [0, 1]; meaningless elsewhere."""
    logits, _ = task.unmasker(torch.where(read, task.mask_token_id, x))
    logp = logits[..., :task.base_vocab_size].float().log_softmax(dim=-1)
    own = logp.gather(-1, x.clamp(max=task.base_vocab_size - 1)[..., None]).squeeze(-1)
    w = 1 - own.exp() if task.loo_score == 'probability' else 1 - (own - logp.max(dim=-1).values).exp()
    return w.clamp(0, 1)


def critic_target(clean, generator, task):
    """A sampler-outcome critic (kin of EDLM's real-against-model energy, Xu et al. 2024): a share
    pool_share of the sequences hold one span of a text of the project's own sampler, at the same
    positions (its length a uniform share of the sequence, or the whole sequence a quarter of the
    time); the target is [WRONG] where the sampler's character stands (where it differs from the
    real one), the character itself elsewhere. On real text nothing is [WRONG], by construction."""
    B, T = clean.shape
    dev = clean.device
    has = torch.rand(B, device=dev, generator=generator) < task.pool_share
    whole = torch.rand(B, device=dev, generator=generator) < 0.25
    n = torch.where(whole, T, torch.randint(1, T + 1, (B,), device=dev, generator=generator))
    start = (torch.rand(B, device=dev, generator=generator) * (T - n + 1)).long()
    pos = torch.arange(T, device=dev)
    span = has[:, None] & (pos >= start[:, None]) & (pos < (start + n)[:, None])
    x = torch.where(span, from_pool(clean, generator, task), clean)
    return x, torch.where(x != clean, task.wrong_token_id, clean), None


TARGETS = {'corrupted': corrupted_target, 'loo': loo_target, 'critic': critic_target}


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
LOO_SCORES = ('probability', 'margin')
POOLED = ('loo', 'critic')  # the targets that read the sampler's texts


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
    """The mean over sequences of each one's mean over its positions with a target: with exact mask
    counts uniform on 1..T, the masked-diffusion bound (NELBO) per token that eval.py measures."""
    nll = F.cross_entropy(logits.float().transpose(1, 2), y, ignore_index=-1, reduction='none')  # (B, T)
    nll = _soft(nll, logits, y, w, wrong_token_id)
    return (nll.sum(dim=1) / (y != -1).sum(dim=1).clamp(min=1)).mean()


LOSSES = {'token': token_mean_loss, 'sequence': sequence_mean_loss}


def fill_and_judge_loss(logits, x, y, w, task, weighting, judge_weight):
    """(total, filling, judging): the filling loss at the [MASK]s by weighting (LOSSES; only the
    sequences with a target there count), plus judge_weight times the judging loss, the mean over the
    visible tokens with a target (soft where w says)."""
    at_mask = x == task.mask_token_id
    fills = torch.where(at_mask, y, -1)
    has = (fills != -1).any(dim=1)
    filling = LOSSES[weighting](logits[has], fills[has]) if has.any() else logits.sum() * 0
    judging = token_mean_loss(logits, torch.where(at_mask, -1, y), w, task.wrong_token_id)
    return filling + judge_weight * judging, filling, judging


@torch.no_grad()
def sampler_pool(unmasker, n, length, task, mode, iterations, batch_size, generator, log=None):
    """(n, length) long: texts written by the project's own sampler (sample.generate in mode, at its
    defaults and iterations, without self-correction) with the frozen unmasking model, batch_size at a time."""
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


# the corruptions of remasking: each replaces the picked positions (B, T) bool of clean (B, T)

def corrupt_random(clean, picked, generator, task):
    """Uniformly random characters: the naive remasker's training data."""
    noise = torch.randint(0, task.base_vocab_size, clean.shape, device=clean.device, generator=generator)
    return torch.where(picked, noise, clean)


@torch.no_grad()
def corrupt_model(clean, picked, generator, task):
    """The unmasking model's own samples (temperature 1): the picked positions are [MASK]ed and filled
    by the sampler's fill step, so these are the mistakes that model really makes."""
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


def check_knobs():
    """Raise ValueError for any knob this run cannot honour, before anything is loaded."""
    if training_type not in OBJECTIVES:
        raise ValueError(f"unknown training_type {training_type!r}; choose one of {', '.join(OBJECTIVES)}")
    if loss_weighting not in LOSSES:
        raise ValueError(f"unknown loss_weighting {loss_weighting!r}; choose one of {', '.join(LOSSES)}")
    if remasking_corruption not in CORRUPTIONS:
        raise ValueError(f"unknown remasking_corruption {remasking_corruption!r}; choose one of "
                         f"{', '.join(CORRUPTIONS)}")
    if not (isinstance(max_corrupted, (int, float)) and 0.0 < max_corrupted <= 1.0):
        raise ValueError(f"max_corrupted must be a share in (0, 1], got {max_corrupted!r}")
    if remasking_target not in TARGETS:
        raise ValueError(f"unknown remasking_target {remasking_target!r}; choose one of {', '.join(TARGETS)}")
    if loo_score not in LOO_SCORES:
        raise ValueError(f"unknown loo_score {loo_score!r}; choose one of {', '.join(LOO_SCORES)}")
    for name, v in (('loo_reread', loo_reread), ('pool_share', pool_share)):
        if not (isinstance(v, (int, float)) and 0.0 < v <= 1.0):
            raise ValueError(f"{name} must be a share in (0, 1], got {v!r}")
    if judge_target not in JUDGE_TARGETS:
        raise ValueError(f"unknown judge_target {judge_target!r}; choose one of {', '.join(JUDGE_TARGETS)}")
    if not (isinstance(judge_weight, (int, float)) and judge_weight > 0):
        raise ValueError(f"judge_weight must be a number above 0, got {judge_weight!r}")
    if uses_pool() and not (isinstance(pool_size, int) and pool_size >= 1):
        raise ValueError(f"this run reads the sampler's texts: pool_size must be at least 1, got {pool_size!r}")
    if pool_mode not in MODES or pool_mode in NEEDS_REMASKER:
        raise ValueError(f"pool_mode must be a mode that needs no remasker ({', '.join(m for m in MODES if m not in NEEDS_REMASKER)}), "
                         f"got {pool_mode!r}")
    if not (isinstance(pool_iterations, int) and pool_iterations >= 1):
        raise ValueError(f"pool_iterations must be an integer of at least 1, got {pool_iterations!r}")
    if init_from not in ('scratch', 'resume') and not os.path.isfile(init_from):
        raise ValueError(f"init_from={init_from!r} is neither 'scratch', 'resume' nor an existing checkpoint file")
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but CUDA is not available here; use --device=cpu")
    for f in ('meta.json', 'train.bin', 'val.bin'):
        if not os.path.isfile(os.path.join(data_dir, f)):
            raise FileNotFoundError(f"{os.path.join(data_dir, f)} not found; make the data first: python "
                                    f"data/shakespeare_char/prepare.py [text_file] [--out_dir={data_dir}]")
    for split in ('train', 'val'):
        n = os.path.getsize(os.path.join(data_dir, f'{split}.bin')) // 2
        if n < block_size + 1:
            raise ValueError(f"{split}.bin holds {n} tokens, fewer than block_size+1 = {block_size + 1}; "
                             f"lower block_size")


def uses_pool():
    """Whether this run reads texts of the project's own sampler."""
    return training_type == 'remasking' and remasking_target in POOLED or \
        training_type == 'fill_and_judge' and judge_target == 'reread'


def needs_unmasker():
    """Whether this run reads the frozen unmasking model (and which knob asks for it)."""
    if training_type == 'fill_and_judge':
        return f"training_type='fill_and_judge' (judge_target={judge_target!r})"
    if training_type != 'remasking':
        return None
    if remasking_target in POOLED:
        return f"remasking_target={remasking_target!r}"
    return f"remasking_corruption={remasking_corruption!r}" if remasking_corruption == 'model' else None


def load_unmasker(tokenizer, mask_token_id, device):
    """The frozen unmasking model of the 'model' corruption, 'loo' and the sampler's texts, checked
    against this run's data."""
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
        try:
            model, info = load_checkpoint(init_from, device=device)
        except (FileNotFoundError, ValueError) as e:
            raise ValueError(f"cannot start from init_from={init_from!r}: {e}") from None
        kin = info['training_type'] == training_type or \
            info['training_type'] == 'unmasking' and training_type in ('remasking', 'fill_and_judge')
        if not kin or info['tokenizer'] != tokenizer:  # a remasker may start from an unmasking model (PRISM-style)
            raise ValueError(f"init_from={init_from!r} is a {info['training_type']!r} model of another vocabulary or "
                             f"objective than this {training_type!r} run on {data_dir}")
        log(f"starting from the weights of {init_from}: {info['model_args']}")
        model.config.dropout = dropout
        for m in model.modules():
            if isinstance(m, torch.nn.Dropout):
                m.p = dropout
        return model.train(), 0, math.inf, None
    try:
        model, info = load_checkpoint(resume_path, device=device)
        # load_checkpoint leaves the optimizer state out; read it here
        optimizer_state = torch.load(resume_path, map_location=device, weights_only=True).get('optimizer')
    except (FileNotFoundError, ValueError) as e:
        raise ValueError(f"cannot resume: {e}") from None
    if optimizer_state is None:
        raise ValueError(f"cannot resume from {resume_path}: it has no optimizer state (a shipped file?)")
    if info['training_type'] != training_type:
        raise ValueError(f"cannot resume: {resume_path} is a {info['training_type']!r} checkpoint, not {training_type!r}")
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


def main(argv):
    configure(globals(), argv, keys=_knobs)
    check_knobs()
    config = {k: globals()[k] for k in _knobs}  # saved in checkpoints

    # distributed data parallel: torchrun sets RANK, LOCAL_RANK and WORLD_SIZE
    ddp = int(os.environ.get('RANK', -1)) != -1
    accumulation, dev = gradient_accumulation_steps, device
    if ddp:
        dist.init_process_group(backend=backend or ('nccl' if device.startswith('cuda') else 'gloo'))
        rank, local_rank, world = (int(os.environ[k]) for k in ('RANK', 'LOCAL_RANK', 'WORLD_SIZE'))
        if device.startswith('cuda'):
            dev = f'cuda:{local_rank}'
            torch.cuda.set_device(dev)
        if accumulation % world:
            raise ValueError(f"gradient_accumulation_steps={accumulation} must be a multiple of the {world} processes")
        accumulation //= world
    else:
        rank, local_rank, world = 0, 0, 1
    master = rank == 0
    log = print if master else (lambda *a, **k: None)
    tokens_per_iter = accumulation * world * batch_size * block_size
    device_type = 'cuda' if dev.startswith('cuda') else 'cpu'
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    ctx = nullcontext() if dtype == 'float32' else torch.amp.autocast(device_type=device_type, dtype=DTYPES[dtype])

    # data: the vocabulary from meta.json, then [MASK] and [WRONG]
    with open(os.path.join(data_dir, 'meta.json'), encoding='utf-8') as f:
        chars = json.load(f)['chars']
    tokenizer = {'type': 'char', 'chars': chars}
    mask_token_id, wrong_token_id, vocab_size = special_token_ids(len(chars), pad_to=pad_vocab_to)
    task = Task(base_vocab_size=len(chars), mask_token_id=mask_token_id, wrong_token_id=wrong_token_id,
                fully_masked_fraction=fully_masked_fraction, target=remasking_target, max_corrupted=max_corrupted,
                corrupt=CORRUPTIONS[remasking_corruption], pool_share=pool_share, loo_reread=loo_reread,
                loo_score=loo_score, judge_target=judge_target)
    what = remasking_target if training_type == 'remasking' else judge_target if training_type == 'fill_and_judge' else ''
    log(f"{training_type}{f' ({what})' if what else ''}: {tokens_per_iter:,} "
        f"tokens per iteration ({accumulation} x {world} x {batch_size} x {block_size})")
    if needs_unmasker():
        unmasker = load_unmasker(tokenizer, mask_token_id, dev)
        if uses_pool():  # the sampler's texts, the same on a resume
            pool_gen = torch.Generator(device=dev).manual_seed(int(np.random.SeedSequence([seed, 3, rank]).generate_state(1)[0]))
            with ctx:
                task.pool = sampler_pool(unmasker, pool_size, block_size, task, pool_mode, pool_iterations, batch_size,
                                         pool_gen, log)
        task.unmasker = torch.compile(unmasker) if compile else unmasker
    make_batch = OBJECTIVES[training_type]

    def generators(*key):
        """A CPU generator (batch offsets) and a device generator (masks, corruption), seeded by key."""
        s = np.random.SeedSequence([seed, *key]).generate_state(2)
        return torch.Generator().manual_seed(int(s[0])), torch.Generator(device=dev).manual_seed(int(s[1]))

    def train_batch(it, micro_step):
        """The batch of a training micro-step, a function of (seed, rank, iteration, micro-step) alone,
        and dropout's seed for it: so a run resumed at any saved iteration goes on exactly as it would
        have gone without stopping."""
        torch.manual_seed(int(np.random.SeedSequence([seed, 2, rank, it, micro_step]).generate_state(1)[0]))
        return get_batch('train', *generators(0, rank, it, micro_step))

    # a character corpus is small (Shakespeare: 19 MB as int32), so by default it lives on the device
    # and a batch costs no host work, copy or sync
    held = {split: torch.from_numpy(np.fromfile(os.path.join(data_dir, f'{split}.bin'), dtype=np.uint16)
                                    .astype(np.int32)).to(dev) for split in ('train', 'val')} if data_on_device else None
    window = torch.arange(block_size + 1, device=dev)

    def get_batch(split, cpu_gen, dev_gen):
        if held:
            data = held[split]
            ix = torch.randint(len(data) - block_size, (batch_size,), device=dev, generator=dev_gen)
            chunk = data[ix[:, None] + window].long()
        else:  # re-open the memmap every batch: a long-lived one leaks memory (nanoGPT's experience)
            data = np.memmap(os.path.join(data_dir, f'{split}.bin'), dtype=np.uint16, mode='r')
            ix = torch.randint(len(data) - block_size, (batch_size,), generator=cpu_gen)
            chunk = torch.from_numpy(np.stack([data[i:i + block_size + 1] for i in ix.tolist()]).astype(np.int64))
            chunk = chunk.pin_memory().to(dev, non_blocking=True) if device_type == 'cuda' else chunk.to(dev)
        return make_batch(chunk, dev_gen, task)  # chunk: (B, T+1)

    # the model
    resume_path = os.path.join(out_dir, ckpt_name)
    model, iter_num, best_val_loss, optimizer_state = init_model(vocab_size, tokenizer, resume_path, dev, log)
    model.to(dev)
    log(f"model: {model.get_num_params() / 1e6:.2f}M parameters, vocabulary {vocab_size} "
        f"({task.base_vocab_size} characters + [MASK] {mask_token_id} + [WRONG] {wrong_token_id})")

    scaler = torch.amp.GradScaler(device_type, enabled=dtype == 'float16')
    optimizer = model.configure_optimizers(weight_decay, learning_rate, (beta1, beta2), device_type)
    if optimizer_state is not None:
        optimizer.load_state_dict(optimizer_state)
        optimizer_state = None  # free it
    flops_per_iter = 3 * model.flops_per_token(block_size) * tokens_per_iter  # forward + backward (2x), trained model only
    # model FLOP utilisation against the matmul rate this GPU reaches in the run's dtype, measured here
    peak = matmul_peak(dev, DTYPES[dtype]) if device_type == 'cuda' else None
    def loss_of(logits, x, y, w):
        """(the loss, its parts: (filling, judging) for fill_and_judge, else None)."""
        if training_type == 'fill_and_judge':
            total, filling, judging = fill_and_judge_loss(logits, x, y, w, task, loss_weighting, judge_weight)
            return total, (filling, judging)
        return LOSSES[loss_weighting](logits, y, w, wrong_token_id), None
    judges = training_type in ('remasking', 'fill_and_judge')
    raw_model = model  # unwrapped from DDP (compiled, if compile): for evaluation and saving
    if compile:
        model = raw_model = torch.compile(model)
    if ddp:
        model = DDP(model, device_ids=[local_rank] if device_type == 'cuda' else None)

    @torch.no_grad()
    def estimate_loss():
        """Mean loss over eval_iters batches of each split, and for a re-masker, its precision and recall
        at flagging changed characters with P([WRONG]) > 0.5. The batches are the same at every
        evaluation (a fixed generator), so successive val losses compare like with like."""
        out = {}
        raw_model.eval()
        for i, split in enumerate(('train', 'val')):
            gens = generators(1, i)  # training batches use keys (0, rank, iteration, micro-step)
            losses = torch.zeros(eval_iters, 3)  # the loss and, for fill_and_judge, its two parts
            hits = torch.zeros(3, dtype=torch.long, device=dev)  # true positives, flagged, actual
            for k in range(eval_iters):
                x, y, w = get_batch(split, *gens)
                with ctx:
                    logits, _ = raw_model(x)
                loss, parts = loss_of(logits, x, y, w)
                losses[k] = torch.tensor([loss.item(), *(t.item() for t in parts)] if parts else [loss.item(), 0, 0])
                if judges:  # [WRONG] at visible tokens: a fill_and_judge model's [MASK]s are no judgment
                    y = torch.where(x == mask_token_id, -1, y) if training_type == 'fill_and_judge' else y
                    flagged = (wrong_probability(logits, wrong_token_id) > 0.5) & (y != -1)
                    actual = y == wrong_token_id if w is None else (y != -1) & (w > 0.5)
                    hits += torch.stack([(flagged & actual).sum(), flagged.sum(), actual.sum()])
            out[split], out[f'{split}_fill'], out[f'{split}_judge'] = losses.mean(dim=0).tolist()
            if judges:
                tp, n_flagged, n_actual = hits.tolist()
                out[f'{split}_precision'] = tp / max(n_flagged, 1)
                out[f'{split}_recall'] = tp / max(n_actual, 1)
        raw_model.train()
        return out

    def save(path, **kwargs):
        os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
        save_checkpoint(path, raw_model, training_type=training_type, tokenizer=tokenizer,
                        base_vocab_size=task.base_vocab_size, mask_token_id=mask_token_id,
                        wrong_token_id=wrong_token_id, config=config, iter_num=iter_num,
                        best_val_loss=None if math.isinf(best_val_loss) else best_val_loss, **kwargs)

    # training loop: iter_num counts the optimizer steps applied to the weights
    x, y, w = train_batch(iter_num, 0)
    t0, iter0 = time.time(), iter_num  # step timings: wall time per iteration since (t0, iter0)
    profiler, first_iter = None, iter_num
    while True:
        if profile and master and iter_num == first_iter + 20:
            profiler = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU] + (
                [torch.profiler.ProfilerActivity.CUDA] if device_type == 'cuda' else []))
            profiler.__enter__()
            t_prof = time.time()
        if profiler is not None and iter_num == first_iter + 40:
            torch.cuda.synchronize() if device_type == 'cuda' else None
            wall = time.time() - t_prof
            profiler.__exit__(None, None, None)
            print(f"profile of 20 iterations: {wall * 1000 / 20:.1f} ms/iter wall")
            print(profiler.key_averages().table(sort_by='self_cuda_time_total' if device_type == 'cuda' else
                                                'self_cpu_time_total', row_limit=25, max_name_column_width=60))
            return  # a profiling run saves and ships nothing
        lr = get_lr(iter_num) if decay_lr else learning_rate
        for group in optimizer.param_groups:
            group['lr'] = lr

        if master and (iter_num % eval_interval == 0 or iter_num >= max_iters or eval_only):
            losses = estimate_loss()
            line = f"step {iter_num}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}"
            if training_type == 'fill_and_judge':
                line += f" (filling {losses['val_fill']:.4f}, judging {losses['val_judge']:.4f})"
            if judges:
                line += (f", val [WRONG] precision {losses['val_precision']:.3f} "
                         f"recall {losses['val_recall']:.3f} (p > 0.5)")
            print(line)
            improved = losses['val'] < best_val_loss
            best_val_loss = min(best_val_loss, losses['val'])  # the best seen, even when the latest weights are saved
            if iter_num > 0 and not eval_only and (improved or always_save_checkpoint):
                save(resume_path, optimizer=optimizer)
                print(f"saved {resume_path}")
            t0, iter0 = time.time(), iter_num  # keep evaluation out of the step timings
        if iter_num >= max_iters or eval_only:
            break

        for micro_step in range(accumulation):
            if ddp:  # sync gradients on the last micro-step only
                model.require_backward_grad_sync = micro_step == accumulation - 1
            with ctx:
                logits, _ = model(x)
                loss = loss_of(logits, x, y, w)[0] / accumulation
            # the next batch, while the device works on this one
            x, y, w = train_batch(*((iter_num, micro_step + 1) if micro_step + 1 < accumulation else (iter_num + 1, 0)))
            scaler.scale(loss).backward()
        if grad_clip != 0.0:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        iter_num += 1

        if master and iter_num % log_interval == 0:
            lossf = loss.item() * accumulation  # .item() waits for the device: only here
            dt = (time.time() - t0) / (iter_num - iter0)
            t0, iter0 = time.time(), iter_num
            mfu = f", MFU {flops_per_iter / dt / peak:.1%}" if peak else ''
            print(f"iter {iter_num}: loss {lossf:.4f}, lr {lr:.2e}, {dt * 1000:.1f} ms/iter, "
                  f"{tokens_per_iter / dt:,.0f} tok/s, {flops_per_iter / dt / 1e12:.2f} TFLOP/s{mfu}")

    if master and ship_ckpt_name and not eval_only:
        ship_path = os.path.join(ship_dir, ship_ckpt_name)
        save(ship_path, weights_dtype=torch.float16)
        print(f"shipped the final weights (iter {iter_num}, float16, no optimizer) to {ship_path}: "
              f"{os.path.getsize(ship_path):,} bytes")


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
