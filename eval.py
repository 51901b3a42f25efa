"""
Evaluation of the models, one benchmark a run (--benchmark=...): quality (the default: ways of
generating, each scored by the autoregressive judge), likelihood (the unmasking model's NELBO against
the judge's bits per character), infill (spans of held-out text hidden and filled), long (text longer
than a block, window after window) and remasker (how well remaskers flag wrong characters, and tell
the sampler's texts from real ones). The speed benchmark is bench.py.

quality: for each row of `rows` (a way of generating: mode, remasker, iterations, ...),
generate num_samples texts with sample.generate() and score each one: bits per character under the
autoregressive judge (ckpt_judge.pt), the entropy of its characters, distinct word 1- and 2-grams
and character 4-grams, the share of its words that occur in the training corpus, and the forward
forward passes and fills it took (as generate() counts them). Every number is a mean with a 95%
confidence interval over the samples. A 'validation' row scores held-out text the same way, as the
target to compare with. It prints a table, the start of each row's first sample, and last one JSON
object with every number.

likelihood: the field's measure of a masked diffusion model, on the windows that tile the held-out
text: the unmasking model's NELBO, the masked-diffusion bound on its negative log-likelihood, in bits
per character (with a linear schedule, the mean over t ~ U(0, 1] of each sequence's mean cross-entropy
at its masked positions when ceil(t L) of them are [MASK]; t stratified over mask_ratios slices), the
autoregressive judge's bits per character on the same windows, and their ratio (MDLM and MD4 come
within 11-14% of an autoregressive model of their size on text8). Means with 95% intervals over the
windows; the last line is one JSON object.

infill: num_samples windows of held-out text, each with a span of every length in span_lengths
hidden in its middle and filled by each way of generating in infill_rows (a template: the text
around the span is given); the judge scores the filled span in its context (bits per character of
the span given what precedes it) and how the text after it follows on (bits per character of the
rest of the window given the span), against the original span (the validation row).

long: text longer than the models' block (sequence_length above block_size), written window after
window as sample.py writes it (sample.generate_text): for each row of long_rows and each context of
contexts, num_samples texts; the judge scores them in windows of its block moving by half a block,
and the table gives bits per character of the whole text, its entropy, and the bits of the
2 * seam characters around every seam (the start of a window's new text) against 2 * seam in the
middle of every window's new text: where a window's start reads worse than its middle.

remasker: how well a remasker flags wrong characters. Held-out text (the validation works) is
corrupted by train.py's corruptions (train.CORRUPTIONS), a share t ~ U(0, 1) of each sequence:
'random' (uniform random characters) and 'model' (masked, then refilled by the unmasking model's
samples). A position is wrong where the character differs from the original. For each remasker and
corruption this prints precision and recall of P([WRONG]) > threshold at the thresholds the guide
uses, the AUROC of P([WRONG]), and a calibration table. First, what matters for generation: each
sampler of sampler_rows writes num_sequences texts, and every remasker's P([WRONG]) and the unmasking
model's own re-reading (1 - P(token) with reread_share of the positions masked at a time, each
position once) score them and as many held-out windows: how well the score tells the sampler's texts
from real ones (AUROC per text and per character) and the share of real characters above each
threshold. The last line is one JSON object with every number.

    $ python eval.py                                          # quality of the default rows
    $ python eval.py --num_samples=16 --sequence_length=256   # a quick look, on a CPU
    $ python eval.py --rows="mode=validation;name=r,mode=random,diffusion_iterations=10"
    $ python eval.py --sweep=iterations --plot=iterations.png --out_json=iterations.json
    $ python eval.py --benchmark=likelihood --device=cuda     # NELBO vs the judge on all of val.bin
    $ python eval.py --benchmark=infill --sequence_length=256 --num_samples=64
    $ python eval.py --benchmark=long --sequence_length=4096 --num_samples=8 --device=cuda
    $ python eval.py --benchmark=remasker                     # both shipped remaskers, 16 sequences each
    $ python eval.py --benchmark=remasker --num_sequences=64 --device=cuda

Rows: one per ';'-separated item, each a comma-separated list of key=value (values are Python
literals, anything else a string): mode (validation | random | schedule | threshold | mixed, and any
other mode sample.generate() knows, e.g. confidence), name, remasker (a checkpoint file in out_dir;
needed by schedule, threshold and mixed), and every knob of sample.Sampling but sequence_length
(diffusion_iterations, threshold, temperature, remasking_schedule, ..., the
selection and self-correction knobs; defaults: Sampling's, which are sample.py's).
"""

import csv
import dataclasses
import importlib.util
import json
import math
import os
import re
import sys
import time
from collections import Counter

import numpy as np
import torch
from torch.nn import functional as F

import sample
import train
from configurator import configure, knobs, parse_literal, run_main
from model import build_tokenizer, device_name, synchronize, token_probability, wrong_probability

# The default quality rows. The field's baselines first, plain (no self-correction), by the unmasking
# model alone (checkpoint_name): fill-once (each [MASK] filled once and kept, MDLM's sampler) and its
# low-confidence variant (LLaDA's rule, which keeps the most confident: at selection temperature 0
# literally, else drawn as the defaults draw), at 30 and 59 passes, and self-correction. Then what
# sample.py writes: the guide's modes by the model that fills and judges (_ONE: one pass an iteration,
# so 30 iterations cost 30 passes and 59 cost 59), the guide's examples with the naive remasker (two
# passes an iteration), and the guide's literal rule (sample.GUIDE_RULE).
_NAIVE = 'ckpt_remasking_naive_4400.pt'
_FJ = 'ckpt_fill_and_judge.pt'
_ONE = f'unmasker={_FJ},remasker={_FJ}'
_GUIDE = ','.join(f'{k}={v!r}' for k, v in sample.GUIDE_RULE.items())
_PLAIN = 'correction_passes=0'
_DEFAULT_ROWS = ';'.join([
    'name=validation,mode=validation',
    f'name=fill-once-30,mode=fill_once,diffusion_iterations=30,{_PLAIN}',
    f'name=fill-once-59,mode=fill_once,diffusion_iterations=59,{_PLAIN}',
    f'name=fill-once-conf-30,mode=fill_once_confidence,diffusion_iterations=30,{_PLAIN}',
    f'name=fill-once-conf-59 LLaDA,mode=fill_once_confidence,diffusion_iterations=59,selection_temperature=0.0,'
    f'{_PLAIN}',
    f'name=fill-once-conf-59,mode=fill_once_confidence,diffusion_iterations=59,{_PLAIN}',
    'name=self-correction-30,mode=fill_once_confidence,diffusion_iterations=30,correction_passes=10',
    'name=self-correction-59,mode=fill_once_confidence,diffusion_iterations=59',
    'name=confidence-59,mode=confidence,diffusion_iterations=59',
    f'name=random-30,mode=random,diffusion_iterations=30,unmasker={_FJ}',
    f'name=random-59,mode=random,diffusion_iterations=59,unmasker={_FJ}',
    f'name=schedule-30 (python sample.py),mode=schedule,{_ONE}',
    f'name=schedule-59,mode=schedule,diffusion_iterations=59,{_ONE}',
    f'name=mixed-30,mode=mixed,{_ONE}',
    f'name=mixed-59,mode=mixed,diffusion_iterations=59,{_ONE}',
    f'name=schedule-30 plain,mode=schedule,{_ONE},{_PLAIN}',
    f'name=threshold ex1,mode=threshold,threshold=0.005,diffusion_iterations=100,{_ONE}',
    f'name=schedule-naive,mode=schedule,unmasker={_FJ},remasker={_NAIVE}',
    f'name=mixed-naive (example 2),mode=mixed,unmasker={_FJ},remasker={_NAIVE}',
    f'name=threshold-naive (example 1),mode=threshold,threshold=0.005,diffusion_iterations=100,unmasker={_FJ},'
    f'remasker={_NAIVE}',
    f'name=guide random-30,mode=random,diffusion_iterations=30,unmasker={_FJ},{_GUIDE}',
    f'name=guide schedule-30,mode=schedule,{_ONE},{_GUIDE}',
    f'name=guide mixed-30,mode=mixed,{_ONE},{_GUIDE}',
    f'name=guide mixed-naive,mode=mixed,unmasker={_FJ},remasker={_NAIVE},{_GUIDE}',
])

# The default infill rows: the original spans, the unmasker alone (plain and self-correcting), and the guide's modes.
_INFILL_ROWS = ';'.join([
    'name=original,mode=validation',
    f'name=fill-once-59,mode=fill_once,diffusion_iterations=59,{_PLAIN}',
    f'name=fill-once-conf-59,mode=fill_once_confidence,diffusion_iterations=59,{_PLAIN}',
    'name=self-correction-59,mode=fill_once_confidence,diffusion_iterations=59',
    f'name=schedule-30 (python sample.py),mode=schedule,{_ONE}',
    f'name=mixed-30,mode=mixed,{_ONE}',
    f'name=mixed-naive,mode=mixed,unmasker={_FJ},remasker={_NAIVE}',
    f'name=guide mixed-naive,mode=mixed,unmasker={_FJ},remasker={_NAIVE},{_GUIDE}',
])

# The long benchmark's rows: python sample.py's defaults, and self-correction (fill_once_confidence's defaults).
_LONG_ROWS = f'name=python sample.py,mode=schedule,{_ONE};' \
    'name=self-correction,mode=fill_once_confidence,diffusion_iterations=59'

# The remasker benchmark's sampler texts: what `python sample.py` writes, and the best mode without a remasker.
_SAMPLER_ROWS = f'name=python sample.py,mode=schedule,{_ONE};' \
    'name=fill_once_confidence,mode=fill_once_confidence,diffusion_iterations=59'

# -----------------------------------------------------------------------------
benchmark = 'quality'  # 'quality' | 'likelihood' | 'infill' | 'remasker' | 'long'
# both benchmarks
out_dir = 'checkpoints'  # where the checkpoints are
checkpoint_name = 'ckpt_unmasking.pt'  # the unmasking model (rows name another by unmasker=)
data_dir = 'data/shakespeare_char'  # train.bin (corpus words) and val.bin (held-out text) from prepare.py
sequence_length = 1024  # tokens per sample / sequence
batch_size: int | None = None  # sequences a generate() call or forward pass; None: 64, the remasker's 8
device = 'cuda' if torch.cuda.is_available() else 'cpu'  # 'cpu' | 'cuda' | 'cuda:N'
seed = 1337  # which samples and held-out windows; each batch is seeded with (seed, batch index)
# quality
judge_name = 'ckpt_judge.pt'  # the autoregressive judge that scores bits per character (always float32)
dtype = 'bfloat16' if torch.cuda.is_available() else 'float32'  # of the generating models (or 'float16')
rows = _DEFAULT_ROWS  # ';'-separated rows of comma-separated key=value (see the docstring)
num_samples = 256  # samples per row
sweep = ''  # '' | 'iterations' | 'threshold' | 'temperature': expand the rows over sweep_values
sweep_values = ''  # comma-separated values to sweep; '' = the sweep's defaults (SWEEP_DEFAULTS)
show_chars = 200  # characters of each row's first sample to print
out_json = ''  # also write the JSON result to this file
out_csv = ''  # also write one CSV line per row to this file
plot = ''  # a .png path: bpc and entropy against forward passes per sample (needs matplotlib)
# long (text longer than a block; sequence_length above the models' block_size)
long_rows = _LONG_ROWS  # ';'-separated rows as for quality, each written at every context
contexts = '128,256,512,768'  # comma-separated values of sample.py's context knob
seam = 32  # characters each side of a seam that make its region (and half a window's middle)
# infill
infill_rows = _INFILL_ROWS  # ';'-separated rows as for quality, each filling every span
span_lengths = '8,32,128'  # comma-separated lengths of the hidden spans, in tokens
# likelihood and remasker
num_sequences: int | None = None  # validation windows; None: all that tile val.bin, the remasker's 16
mask_ratios = 8  # likelihood: mask ratios t per window, one in each of as many equal slices of (0, 1]
remaskers = 'ckpt_remasking_naive_4400.pt,ckpt_fill_and_judge.pt'  # comma-separated remasking checkpoints
sampler_rows = _SAMPLER_ROWS  # remasker: rows (as for quality) whose texts the scores tell from real text
reread_share = 0.15  # remasker: the share of positions the unmasker's re-reading masks at a time
thresholds = '0.003,0.005,0.01,0.05,0.5'  # P([WRONG]) thresholds to report (comma-separated)
# -----------------------------------------------------------------------------
_knobs = knobs(globals())  # the names above: what --key=value, config files and --help may touch

DEFAULT_BATCH_SIZE = {'quality': 64, 'likelihood': 64, 'infill': 64, 'remasker': 8, 'long': 8}
REMASKER_SEQUENCES = 16  # num_sequences=None for the remasker diagnostics: per corruption


# -----------------------------------------------------------------------------
# the metrics, all of them: small pure functions of arrays, tensors and strings

LETTER = r"[^\W\d_]"  # a letter in any script
WORD = re.compile(rf"(?:{LETTER}|')*{LETTER}(?:{LETTER}|')*")  # a maximal run of letters and apostrophes


def words(text):
    """The words of text, lowercased: maximal runs of letters and apostrophes (with a letter in them)."""
    return WORD.findall(text.lower())


def distinct_ratio(items):
    """Distinct items / items; NaN for none."""
    return len(set(items)) / len(items) if items else float('nan')


def word_ngrams(text, n):
    ws = words(text)
    return [tuple(ws[i:i + n]) for i in range(len(ws) - n + 1)]


def char_ngrams(text, n):
    return [text[i:i + n] for i in range(len(text) - n + 1)]


def distinct_words(text, n):
    """Distinct word n-grams / word n-grams of text."""
    return distinct_ratio(word_ngrams(text, n))


def distinct_chars(text, n=4):
    """Distinct character n-grams / character n-grams of text."""
    return distinct_ratio(char_ngrams(text, n))


def char_entropy(text):
    """Entropy in bits of text's own character histogram: 'aabb' -> 1, 'aaaa' -> 0."""
    counts = np.array(list(Counter(text).values()), dtype=np.float64)
    if counts.size == 0:
        return float('nan')
    p = counts / counts.sum()
    return float((p * np.log2(1 / p)).sum())


def corpus_word_share(text, corpus_words):
    """The share of text's words (with repeats) found in the set corpus_words; NaN for no words."""
    ws = words(text)
    if not ws:
        return float('nan')
    return sum(w in corpus_words for w in ws) / len(ws)


def token_bits(logits, tokens, base_vocab_size):
    """-log2 p(x_t | x_<t) at positions t = 1..L-1 under a causal model's logits (B, L, V) for tokens
    (B, L), with the logits restricted to the base vocabulary: (B, L-1), column t-1 for position t."""
    logp = torch.log_softmax(logits[:, :-1, :base_vocab_size].float(), dim=-1)  # position t-1 predicts x_t
    return -logp.gather(-1, tokens[:, 1:, None]).squeeze(-1) / math.log(2)


def bits_per_char(logits, tokens, base_vocab_size):
    """Mean over positions 1..L-1 of -log2 p(x_t | x_<t): (B,). (Bits per token: per character for
    the character tokenizer.)"""
    return token_bits(logits, tokens, base_vocab_size).mean(dim=1)


def text_metrics(text, corpus_words):
    """The text-only metrics of one sample, by name."""
    return {'entropy': char_entropy(text),
            'distinct_1': distinct_words(text, 1),
            'distinct_2': distinct_words(text, 2),
            'distinct_char4': distinct_chars(text, 4),
            'corpus_word_share': corpus_word_share(text, corpus_words)}


def mean_ci(values):
    """(mean, 95% confidence half-width 1.96 * sample std / sqrt(n)) of the finite values; NaN where
    there are too few."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float('nan'), float('nan')
    if v.size == 1:
        return float(v[0]), float('nan')
    return float(v.mean()), float(1.96 * v.std(ddof=1) / math.sqrt(v.size))


def auroc(scores, labels):
    """Area under the ROC curve: the probability that a random wrong position scores above a random
    right one (ties count half), by the rank-sum formula."""
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels, dtype=bool)
    n_pos, n_neg = labels.sum(), (~labels).sum()
    if n_pos == 0 or n_neg == 0:
        return float('nan')
    order = scores.argsort(kind='mergesort')
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # average ranks over ties
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def precision_recall(scores, labels, threshold):
    flagged = np.asarray(scores) > threshold
    labels = np.asarray(labels, dtype=bool)
    tp = (flagged & labels).sum()
    return (float(tp / flagged.sum()) if flagged.sum() else float('nan'),
            float(tp / labels.sum()) if labels.sum() else float('nan'))


def calibration(scores, labels, edges=(0, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95, 1.0)):
    """Rows (low, high, count, mean P([WRONG]), share actually wrong) per bin of P([WRONG])."""
    scores, labels = np.asarray(scores), np.asarray(labels, dtype=bool)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (scores >= lo) & ((scores < hi) if hi < 1.0 else (scores <= hi))
        if inside.any():
            rows.append((lo, hi, int(inside.sum()), float(scores[inside].mean()), float(labels[inside].mean())))
    return rows


# -----------------------------------------------------------------------------
# remasker diagnostics

@torch.no_grad()
def remasker_scores(remasker, chunks, task, generator, batch_size):
    """P([WRONG]) and wrongness labels, flattened, for validation text chunks (N, T+1) made into
    remasking batches exactly as train.py makes them, with task.corrupt."""
    scores, labels = [], []
    for i in range(0, chunks.size(0), batch_size):
        x, y, _ = train.remasking_batch(chunks[i:i + batch_size], generator, task)
        logits, _ = remasker(x)
        scores.append(wrong_probability(logits, task.wrong_token_id).flatten().cpu())
        labels.append((y == task.wrong_token_id).flatten().cpu())
    return torch.cat(scores).numpy(), torch.cat(labels).numpy()


@torch.no_grad()
def clean_text_row(remasker, tokens, wrong_token_id, thresholds, batch_size):
    """A remasker on held-out text as it is, tokens (N, L): how many of each sequence's characters
    each threshold would re-mask, and how often none (threshold mode converges on a sequence only
    when none of its characters is above the threshold)."""
    p = torch.cat([sample.judge(remasker, tokens[i:i + batch_size], wrong_token_id=wrong_token_id)
                   for i in range(0, tokens.size(0), batch_size)])
    return {'mean_p_wrong': float(p.mean()), 'median_max_p_wrong': float(p.max(dim=1).values.median()),
            'at_threshold': {str(t): {'positions_above': float((p > t).sum(dim=1).double().mean()),
                                      'sequences_with_none': float((p <= t).all(dim=1).double().mean())}
                             for t in thresholds}}


@torch.no_grad()
def reread_scores(unmasker, tokens, share, mask_token_id, base_vocab_size, generator, batch_size):
    """The unmasking model re-reading text (N, L): 1 - P(token) at every position, read with a share of
    the positions masked at a time. Each position is masked exactly once: a random order of the
    positions is cut into ceil(1/share) groups, one pass each. (N, L) float32."""
    N, L = tokens.shape
    groups = math.ceil(1 / share)
    out = torch.empty(N, L, device=tokens.device)
    for i in range(0, N, batch_size):
        x = tokens[i:i + batch_size]
        order = torch.rand(x.shape, generator=generator, device=x.device).argsort(dim=1)  # a random order per row
        group = torch.empty_like(order).scatter_(1, order, torch.arange(L, device=x.device).expand_as(order) % groups)
        for k in range(groups):
            masked = group == k
            logits, _ = unmasker(torch.where(masked, mask_token_id, x))
            p = token_probability(logits[..., :base_vocab_size], x)
            out[i:i + batch_size] = torch.where(masked, 1 - p, out[i:i + batch_size])
    return out


def detection_row(name, real, generated, ths):
    """How well a score per character (N, L) tells generated texts from real ones: the means, AUROC
    per text (each text scored by its mean) and per character, and the share of real characters
    above each threshold."""
    real, generated = real.double().cpu(), generated.double().cpu()
    labels = np.r_[np.zeros(real.size(0)), np.ones(generated.size(0))]
    char_labels = np.r_[np.zeros(real.numel()), np.ones(generated.numel())]
    return {'score': name, 'mean_real': float(real.mean()), 'mean_generated': float(generated.mean()),
            'auroc_text': auroc(torch.cat([real.mean(1), generated.mean(1)]).numpy(), labels),
            'auroc_char': auroc(torch.cat([real.flatten(), generated.flatten()]).numpy(), char_labels),
            'real_above': {str(t): float((real > t).double().mean()) for t in ths}}


@torch.no_grad()
def detect_samplers(generators, judged, models, unmasker, u, real, ths, bs, n):
    """How well each remasker's P([WRONG]) and the unmasker's re-reading tell each sampler's texts from
    the held-out text real: a list of detection_row dicts (printed as they come)."""
    if not generators:
        return []
    g = torch.Generator(device=device).manual_seed(seed)
    scorers = {f'{name} P([WRONG])': (lambda x, m=model: torch.cat([
        sample.judge(m, x[i:i + bs], wrong_token_id=u['wrong_token_id']) for i in range(0, x.size(0), bs)]))
        for name, model in judged.items()}
    scorers[f'unmasker re-read 1 - P(token), {reread_share:.0%} masked at a time'] = lambda x: reread_scores(
        unmasker, x, reread_share, u['mask_token_id'], u['base_vocab_size'], g, bs)
    real_scores = {name: score(real) for name, score in scorers.items()}
    print(f"\nthe sampler's finished texts against held-out text ({n} each): how well each score tells them "
          f"apart (AUROC: 0.5 = not at all), and the share of real characters above each threshold")
    detection = []
    for row in generators:
        remasker = models[row['remasker']] if row['remasker'] else None
        filler = remasker if row.get('unmasker') and row['unmasker'] == row['remasker'] else unmasker  # one pass
        texts, _, _, _ = generate_row(row, filler, remasker, u, bs, n)
        print(f"  {row['name']}:")
        print(f"    {'score':<58} {'real':>6} {'generated':>9} {'AUROC/text':>10} {'AUROC/char':>10}  "
              f"real chars above {', '.join(map(str, ths))}")
        for name, score in scorers.items():
            d = {'sampler': row['name'], **detection_row(name, real_scores[name], score(texts), ths)}
            detection.append(d)
            above = ' '.join(f"{v:.0%}" for v in d['real_above'].values())
            print(f"    {name:<58} {d['mean_real']:6.3f} {d['mean_generated']:9.3f} {d['auroc_text']:10.2f} "
                  f"{d['auroc_char']:10.2f}  {above}")
    return detection


def run_remasker():
    bs = batch_size if batch_size is not None else DEFAULT_BATCH_SIZE['remasker']
    n = num_sequences if num_sequences is not None else REMASKER_SEQUENCES
    ths = [float(t) for t in thresholds.split(',')]
    if not (isinstance(reread_share, float) and 0 < reread_share <= 1):
        raise ValueError(f"reread_share must be a share in (0, 1], got {reread_share!r}")
    generators = parse_rows(sampler_rows) if sampler_rows else []
    if any(row['mode'] == 'validation' for row in generators):
        raise ValueError("sampler_rows: the held-out text is always there; give rows that generate")
    check_rows(generators)
    sample.check_device(device, 'float32')
    unmasker, u, _, _ = sample.load_models(checkpoint_name, out_dir=out_dir, device=device, dtype='float32',
                                           sequence_length=sequence_length)
    models = {}
    for name in dict.fromkeys(remaskers.split(',') + [row['remasker'] for row in generators if row['remasker']]):
        models[name], r = sample.load_model(name, sample.JUDGES, 'remaskers', out_dir=out_dir, device=device,
                                            dtype='float32')
        sample.check_compatible(u, r)
    judged = {name: models[name] for name in remaskers.split(',')}
    chunks = validation_tokens(u['base_vocab_size'], n, sequence_length + 1)
    hardware = device_name(device)
    print(f"remasker diagnostics on {n} x {sequence_length} validation characters ({hardware})")
    detection = detect_samplers(generators, judged, models, unmasker, u, chunks[:, :-1], ths, bs, n)
    results, clean = [], []
    for name, remasker in judged.items():
        row = {'remasker': name, **clean_text_row(remasker, chunks[:, :-1], u['wrong_token_id'], ths, bs)}
        clean.append(row)
        print(f"\n{name}, the held-out text unchanged: mean P([WRONG]) {row['mean_p_wrong']:.4f}, median of each "
              f"sequence's largest {row['median_max_p_wrong']:.3f}")
        print("  threshold  characters above it per sequence  sequences with none above it")
        for t, a in row['at_threshold'].items():
            print(f"  {t:>9}  {a['positions_above']:>8.1f} of {sequence_length:<21}  {a['sequences_with_none']:.3f}")
        for corruption in ('random', 'model'):
            t0 = time.perf_counter()
            g = torch.Generator(device=device).manual_seed(seed)
            task = train.Task(base_vocab_size=u['base_vocab_size'], mask_token_id=u['mask_token_id'],
                              wrong_token_id=u['wrong_token_id'], corrupt=train.CORRUPTIONS[corruption],
                              unmasker=unmasker)
            scores, labels = remasker_scores(remasker, chunks, task, g, bs)
            row = {'remasker': name, 'corruption': corruption, 'positions': int(len(labels)),
                   'wrong_share': float(labels.mean()), 'auroc': auroc(scores, labels),
                   'mean_p_wrong_right': float(scores[~labels].mean()),
                   'mean_p_wrong_wrong': float(scores[labels].mean()),
                   'at_threshold': {str(t): dict(zip(('precision', 'recall'), precision_recall(scores, labels, t)))
                                    for t in ths},
                   'calibration': calibration(scores, labels)}
            results.append(row)
            print(f"\n{name}, {corruption} corruption: {row['wrong_share']:.1%} of positions wrong, "
                  f"AUROC {row['auroc']:.3f}, mean P([WRONG]) {row['mean_p_wrong_wrong']:.3f} where wrong, "
                  f"{row['mean_p_wrong_right']:.3f} where right ({time.perf_counter() - t0:.1f}s)")
            print("  threshold  precision  recall")
            for t, pr in row['at_threshold'].items():
                print(f"  {t:>9}  {pr['precision']:9.3f}  {pr['recall']:6.3f}")
            print("  P([WRONG]) bin   positions  mean P([WRONG])  share wrong")
            for lo, hi, count, p, w in row['calibration']:
                print(f"  [{lo:.2f}, {hi:.2f}]  {count:>10}  {p:15.3f}  {w:11.3f}")
    print(json.dumps({'what': 'remasker', 'hardware': hardware, 'num_sequences': n,
                      'sequence_length': sequence_length, 'detection': detection, 'clean': clean, 'results': results}))


# -----------------------------------------------------------------------------
# likelihood

@torch.no_grad()
def nelbo_bits(unmasker, tokens, task, generator, strata, batch_size):
    """(N,) the masked-diffusion bound on each sequence's negative log-likelihood, bits per token,
    for tokens (N, L): the mean over t in (0, 1] of the mean cross-entropy at the masked positions
    when ceil(t L) random positions are [MASK] (the count is uniform on 1..L, and the ELBO's 1/t
    weight cancels the expected t L masked positions of a linear schedule). t takes one uniform
    draw in each of `strata` equal slices of (0, 1]. The logits are restricted to the base
    vocabulary, as the judge's are."""
    N, L = tokens.shape
    total = torch.zeros(N, dtype=torch.float64, device=tokens.device)
    for j in range(strata):
        for i in range(0, N, batch_size):
            x = tokens[i:i + batch_size]
            t = (j + torch.rand(x.size(0), generator=generator, device=x.device)) / strata  # in [j/K, (j+1)/K)
            k = (t * L).ceil().clamp(1, L).long()
            masked = train.random_positions(k, L, generator)
            logits, _ = unmasker(torch.where(masked, task.mask_token_id, x))
            nll = F.cross_entropy(logits[..., :task.base_vocab_size].float().transpose(1, 2), x, reduction='none')
            total[i:i + x.size(0)] += ((nll * masked).sum(dim=1) / k).double()
    return (total / strata / math.log(2)).cpu().numpy()


def ratio_ci(a, b):
    """mean(a) / mean(b) of paired samples and its 95% half-width (the delta method)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    r = a.mean() / b.mean()
    var = (a.var(ddof=1) + r ** 2 * b.var(ddof=1) - 2 * r * np.cov(a, b)[0, 1]) / b.mean() ** 2
    return float(r), float(1.96 * math.sqrt(max(var, 0.0) / len(a)))


def run_likelihood():
    bs = batch_size if batch_size is not None else DEFAULT_BATCH_SIZE['likelihood']
    if not (isinstance(mask_ratios, int) and mask_ratios >= 1):
        raise ValueError(f"mask_ratios must be an integer of at least 1, got {mask_ratios!r}")
    sample.check_device(device, 'float32')
    unmasker, u, judge, _ = load_models([], 'float32')
    tokens = validation_tiles(u['base_vocab_size'], num_sequences, sequence_length)
    n = tokens.size(0)
    hardware = device_name(device)
    t0 = time.perf_counter()
    g = torch.Generator(device=device).manual_seed(seed)
    task = train.Task(base_vocab_size=u['base_vocab_size'], mask_token_id=u['mask_token_id'],
                      wrong_token_id=u['wrong_token_id'])
    nelbo = nelbo_bits(unmasker, tokens, task, g, mask_ratios, bs)
    ar = judge_bpc(judge, tokens, u['base_vocab_size'], bs)
    (m_n, ci_n), (m_j, ci_j), (r, ci_r) = mean_ci(nelbo), mean_ci(ar), ratio_ci(nelbo, ar)
    print(f"likelihood on {n} validation windows of {sequence_length} characters, {mask_ratios} mask ratios each "
          f"({hardware}, float32, {time.perf_counter() - t0:.1f}s); mean ± 95% CI")
    print(f"unmasker {checkpoint_name} NELBO:  {m_n:.4f} ± {ci_n:.4f} bits/char")
    print(f"judge {judge_name} (autoregressive): {m_j:.4f} ± {ci_j:.4f} bits/char")
    print(f"ratio NELBO / judge: {r:.4f} ± {ci_r:.4f}")
    print(json.dumps({'what': 'likelihood', 'hardware': hardware, 'checkpoint': checkpoint_name, 'judge': judge_name,
                      'num_sequences': n, 'sequence_length': sequence_length, 'mask_ratios': mask_ratios,
                      'nelbo_bits': {'mean': m_n, 'ci95': ci_n}, 'judge_bits': {'mean': m_j, 'ci95': ci_j},
                      'ratio': {'mean': r, 'ci95': ci_r}}))


# -----------------------------------------------------------------------------
# text longer than a block

@torch.no_grad()
def judge_bits_long(judge, tokens, base_vocab_size, block_size, batch_size):
    """token_bits of texts longer than the judge's block, (N, L) -> (N, L-1): in windows of block_size
    that move by half a block, each token scored once, with at least half a block before it (all
    of what precedes it in the first window)."""
    N, L = tokens.shape
    out = torch.empty(N, L - 1)
    step = block_size // 2
    for start in range(0, max(L - block_size, 0) + step, step):
        chunk = tokens[:, start:start + block_size]
        bits = judge_bits(judge, chunk, base_vocab_size, batch_size)  # (N, len-1), column j for position start+j+1
        first = 0 if start == 0 else block_size - step - 1  # the positions this window scores first
        out[:, start + first:start + chunk.size(1) - 1] = bits[:, first:]
        if start + chunk.size(1) >= L:
            break
    return out


def seam_regions(plan, seam_chars):
    """(seams, middles): the positions of the seam_chars before and after the start of every window's
    new text but the first, and of 2 * seam_chars in the middle of every window's new text that has
    room (all new text from the window's start, as written by sample.window_lengths' plan)."""
    seams, middles, written = [], [], 0
    for k, (given, new) in enumerate(plan):
        if k:
            seams.append(range(max(written - seam_chars, 0), min(written + seam_chars, written + new)))
        if new >= 4 * seam_chars:
            mid = written + new // 2
            middles.append(range(mid - seam_chars, mid + seam_chars))
        written += new
    return seams, middles


def run_long():
    bs = batch_size if batch_size is not None else DEFAULT_BATCH_SIZE['long']
    sample.check_device(device, dtype)
    ctxs = [parse_literal(v.strip()) for v in str(contexts).split(',') if v.strip()]
    if isinstance(seam, bool) or not isinstance(seam, int) or seam < 1:
        raise ValueError(f"seam must be an integer of at least 1 (characters), got {seam!r}")
    long = parse_rows(long_rows)
    if any(row['mode'] == 'validation' for row in long):
        raise ValueError("long_rows: give rows that generate")
    check_rows(long)
    _, u, judge, models = load_models(long, windowed=True)
    block = u['model_args']['block_size']
    if sequence_length <= block:
        raise ValueError(f"the long benchmark writes text longer than the models' block_size {block}: raise "
                         f"sequence_length above it, got {sequence_length}")
    if not ctxs or not all(isinstance(c, int) and not isinstance(c, bool) and 0 < c < block for c in ctxs):
        raise ValueError(f"contexts must be integers from 1 to block_size - 1 = {block - 1}, got {contexts!r}")
    tokenizer = build_tokenizer(u['tokenizer'])
    hardware = device_name(device)
    print(f"long text: {num_samples} texts of {sequence_length} characters a row and context, windows of {block}; "
          f"{hardware}, {device} {dtype}; judge {judge_name}; bits/char and entropy mean ± 95% CI over texts")
    print(f"{'row':<22} {'context':>7} {'windows':>7}  {'new text bits/char':^18}  {'entropy':^14}  "
          f"{'at the seams':^15}  {'mid-window':^15}  {'s/text':>7}")
    results = []
    for row in long:
        unmasker, remasker = row_models(row, models)
        for c in ctxs:
            plan = sample.window_lengths(sequence_length, block, c)
            tokens, _, _, seconds = generate_row(row, unmasker, remasker, u, bs, write=sample.generate_text,
                                                 block_size=block, context=c)
            bits = judge_bits_long(judge, tokens, u['base_vocab_size'], judge.config.block_size, bs)  # (N, L-1)
            at = lambda positions: torch.tensor([p - 1 for r in positions for p in r if p >= 1], dtype=torch.long)  # noqa: E731
            seams, middles = seam_regions(plan, seam)
            texts = [tokenizer.decode(t) for t in tokens.tolist()]
            m = {'new_bits': mean_ci(bits.mean(dim=1).numpy()),
                 'entropy': mean_ci([char_entropy(t) for t in texts]),
                 'seam_bits': mean_ci(bits[:, at(seams)].mean(dim=1).numpy()),
                 'middle_bits': mean_ci(bits[:, at(middles)].mean(dim=1).numpy())}
            results.append({'name': row['name'], 'context': c, 'windows': len(plan),
                            'seconds_per_text': seconds / num_samples, 'first_text': texts[0][:show_chars],
                            **{k: {'mean': _finite(a), 'ci95': _finite(b_)} for k, (a, b_) in m.items()}})
            print(f"{row['name']:<22} {c:>7} {len(plan):>7}  {m['new_bits'][0]:>7.3f} ± {m['new_bits'][1]:<7.3f}  "
                  f"{m['entropy'][0]:>6.3f} ± {m['entropy'][1]:<5.3f}  "
                  f"{m['seam_bits'][0]:>6.3f} ± {m['seam_bits'][1]:<6.3f}  "
                  f"{m['middle_bits'][0]:>6.3f} ± {m['middle_bits'][1]:<6.3f}  {seconds / num_samples:>7.1f}",
                  flush=True)
    print(json.dumps({'what': 'long', 'hardware': hardware, 'num_samples': num_samples,
                      'sequence_length': sequence_length, 'block_size': block, 'seam': seam, 'results': results}))


# -----------------------------------------------------------------------------
# infilling

def run_infill():
    bs = batch_size if batch_size is not None else DEFAULT_BATCH_SIZE['infill']
    spans = [parse_literal(v.strip()) for v in str(span_lengths).split(',') if v.strip()]
    if not spans or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= sequence_length - 2
                            for v in spans):
        raise ValueError(f"span_lengths must be integers from 1 to sequence_length - 2 = {sequence_length - 2}, "
                         f"got {span_lengths!r}")
    sample.check_device(device, dtype)
    infill = parse_rows(infill_rows)
    check_rows(infill)
    _, u, judge, models = load_models(infill)
    windows = validation_tokens(u['base_vocab_size'], num_samples, sequence_length)  # (N, L)
    hardware = device_name(device)
    print(f"infilling of {num_samples} validation windows of {sequence_length} tokens, the span in the middle; "
          f"{hardware}, {device} {dtype}; judge {judge_name}; bits/char mean ± 95% CI")
    width = max(len('row'), *(len(row['name']) for row in infill))
    print(f"{'row':<{width}} {'span':>5}  {'span bits/char':^15}  {'after it':^15}  {'passes':>7}")
    results = []
    for span in spans:
        first = (sequence_length - span) // 2
        hole = torch.zeros(sequence_length, dtype=torch.bool, device=device)
        hole[first:first + span] = True
        for row in infill:
            if row['mode'] == 'validation':
                tokens, passes = windows, [0] * num_samples
            else:
                unmasker, remasker = row_models(row, models)
                parts, passes = [], []
                for b, i in enumerate(range(0, num_samples, bs)):
                    x = windows[i:i + bs]
                    generator = torch.Generator(device=device).manual_seed(sample.batch_seed(seed, b))
                    out, info = sample.generate(unmasker, remasker, batch_size=x.size(0),
                                                sequence_length=sequence_length,
                                                base_vocab_size=u['base_vocab_size'], mask_token_id=u['mask_token_id'],
                                                wrong_token_id=u['wrong_token_id'], mode=row['mode'],
                                                fixed=torch.where(hole, -1, x), generator=generator,
                                                **{k: row[k] for k in GENERATE_KEYS})
                    parts.append(out)
                    passes += info['passes'].tolist()
                tokens = torch.cat(parts)
            bits = judge_bits(judge, tokens, u['base_vocab_size'], bs)  # (N, L-1), column t-1 for position t
            m = {'span_bits': mean_ci(bits[:, first - 1:first - 1 + span].mean(dim=1).numpy()),
                 'after_bits': mean_ci(bits[:, first - 1 + span:].mean(dim=1).numpy()),
                 'passes': mean_ci(passes)}
            results.append({'name': row['name'], 'span': span, **{k: {'mean': _finite(a), 'ci95': _finite(c)}
                                                                   for k, (a, c) in m.items()}})
            print(f"{row['name']:<{width}} {span:>5}  {m['span_bits'][0]:>6.3f} ± {m['span_bits'][1]:<6.3f}  "
                  f"{m['after_bits'][0]:>6.3f} ± {m['after_bits'][1]:<6.3f}  {m['passes'][0]:>7.1f}", flush=True)
    print(json.dumps({'what': 'infill', 'hardware': hardware, 'num_samples': num_samples,
                      'sequence_length': sequence_length, 'results': results}))


# -----------------------------------------------------------------------------
# rows and sweeps

GENERATE_KEYS = tuple(f.name for f in dataclasses.fields(sample.Sampling) if f.name not in ('mode', 'sequence_length'))
ROW_KEYS = ('name', 'mode', 'unmasker', 'remasker') + GENERATE_KEYS  # GENERATE_KEYS go to sample.generate() as they are
GENERATE_DEFAULTS = {f.name: f.default for f in dataclasses.fields(sample.Sampling) if f.name in GENERATE_KEYS}
SWEEPS = {'iterations': 'diffusion_iterations', 'threshold': 'threshold', 'temperature': 'temperature'}
SWEEP_DEFAULTS = {'iterations': '5,10,20,30,50,100', 'threshold': '0.001,0.003,0.005,0.01,0.03,0.1',
                  'temperature': '0.7,0.8,0.85,0.9,0.95,1.0'}
SWEEP_LABELS = {'iterations': 'T', 'threshold': 'th', 'temperature': 'temp'}


def parse_row(item):
    """'name=x,mode=random,diffusion_iterations=10' -> {'name': 'x', 'mode': 'random', ...}, as given."""
    row = {}
    for part in item.split(','):
        if not part.strip():
            continue
        if '=' not in part:
            raise ValueError(f"rows: {part.strip()!r} in row {item!r} is not key=value")
        key, raw = (s.strip() for s in part.split('=', 1))
        if key not in ROW_KEYS:
            raise ValueError(f"rows: unknown key {key!r} in row {item!r}; known: {', '.join(ROW_KEYS)}")
        if key in row:
            raise ValueError(f"rows: {key!r} given twice in row {item!r}")
        row[key] = parse_literal(raw)
    return row


def default_name(row):
    name = row['mode']
    if row.get('remasker'):
        name += '-' + os.path.splitext(os.path.basename(row['remasker']))[0]
    return f"{name}-{row['diffusion_iterations']}"


def complete_row(row, item):
    """Fill in a parsed row's defaults and check what can be checked without the models."""
    if 'mode' not in row:
        raise ValueError(f"rows: row {item!r} has no mode=")
    mode = row['mode']
    known = ('validation',) + tuple(sample.MODES)
    if mode not in known:
        raise ValueError(f"rows: unknown mode {mode!r} in row {item!r}; choose one of {', '.join(known)} "
                         f"(the modes this sample.generate() knows, and validation)")
    if mode == 'validation':
        extra = sorted(set(row) - {'name', 'mode'})
        if extra:
            raise ValueError(f"rows: a validation row takes only name, got {', '.join(extra)} in {item!r}")
        name = str(row.get('name', 'validation'))
        return {'name': name, 'family': name, 'mode': 'validation', 'unmasker': None, 'remasker': None,
                **dict.fromkeys(GENERATE_KEYS)}
    row = {**GENERATE_DEFAULTS, **row}
    if mode == 'mixed' and row['threshold'] is None:
        row['threshold'] = sample.MIXED_DEFAULT_THRESHOLD  # what generate() takes for None, named in the results
    if mode == 'threshold' and row['threshold'] is None:
        raise ValueError(f"rows: threshold mode needs threshold=<P([WRONG]) in (0, 1)> in row {item!r}")
    needs = sample.needs_remasker(sample.sampling(mode=mode, **{k: row[k] for k in GENERATE_KEYS}))
    what = f"{mode} mode" if mode in sample.NEEDS_REMASKER or not needs else "correction_by='remasker'"
    if not needs and row.get('remasker'):
        raise ValueError(f"rows: {what} uses no remasker, but row {item!r} names one")
    if needs and not row.get('remasker'):
        raise ValueError(f"rows: {what} needs a remasker (remasker=<file in out_dir>) in row {item!r}")
    row['remasker'] = str(row['remasker']) if row.get('remasker') else None  # a file name, whatever it looks like
    row['unmasker'] = str(row['unmasker']) if row.get('unmasker') else None  # None: checkpoint_name
    row['name'] = str(row['name']) if 'name' in row else default_name(row)
    row['family'] = row['name']
    return row


def parse_rows(text):
    """The `rows` knob -> a list of complete rows (dicts)."""
    items = [item.strip() for item in text.split(';') if item.strip()]
    if not items:
        raise ValueError("rows is empty; give at least one row, e.g. --rows=mode=validation")
    return [complete_row(parse_row(item), item) for item in items]


def parse_sweep_values(sweep, text):
    """The sweep_values knob -> a list of values ('' = the sweep's defaults)."""
    if sweep not in SWEEPS:
        raise ValueError(f"unknown sweep {sweep!r}; choose '', {', '.join(repr(s) for s in SWEEPS)}")
    text = text or SWEEP_DEFAULTS[sweep]
    values = [parse_literal(v.strip()) for v in text.split(',') if v.strip()]
    if not values:
        raise ValueError("sweep_values is empty")
    return values


def expand_sweep(rows, sweep, values):
    """Rows for a sweep: validation rows once, as the reference; then each row that the sweep varies
    (every generating row; for 'threshold' the threshold-mode rows) once per value, named
    '<name> <label>=<value>' and grouped in the family '<name>'."""
    if not sweep:
        return rows
    if sweep not in SWEEPS:
        raise ValueError(f"unknown sweep {sweep!r}; choose '', {', '.join(repr(s) for s in SWEEPS)}")
    key, label = SWEEPS[sweep], SWEEP_LABELS[sweep]
    out = [row for row in rows if row['mode'] == 'validation']
    swept = [row for row in rows
             if row['mode'] != 'validation' and (sweep != 'threshold' or row['mode'] == 'threshold')]
    if not swept:
        what = 'threshold-mode rows' if sweep == 'threshold' else 'rows that generate'
        raise ValueError(f"sweep={sweep!r} needs {what} in rows")
    for row in swept:
        for v in values:
            out.append({**row, key: v, 'name': f"{row['name']} {label}={v}", 'family': row['name']})
    return out


def check_rows(rows):
    """Every row's settings, checked by sample.check_settings before anything is loaded."""
    names = [row['name'] for row in rows]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"rows: names must differ, {', '.join(repr(n) for n in twice)} used more than once")
    for row in rows:
        if row['mode'] == 'validation':
            continue
        try:
            sample.check_settings(sample.sampling(mode=row['mode'], sequence_length=sequence_length,
                                                  **{k: row[k] for k in GENERATE_KEYS}),
                                  batch_size=1 if batch_size is None else batch_size, num_samples=num_samples)
        except ValueError as e:
            raise ValueError(f"row {row['name']!r}: {e}") from None


# -----------------------------------------------------------------------------
# the quality benchmark

def require_matplotlib():
    if importlib.util.find_spec('matplotlib') is None:
        raise ValueError(f"plot={plot!r} needs matplotlib, which is not installed: pip install matplotlib, "
                         f"or leave plot unset")


def check_output_path(knob, path):
    folder = os.path.dirname(path) or '.'
    if path and not os.path.isdir(folder):
        raise ValueError(f"{knob}={path!r}: folder {folder} does not exist")


def read_tokens(path, vocab_size):
    """A .bin of uint16 token ids from prepare.py, checked against the checkpoints' vocabulary."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} not found; make it first: python data/shakespeare_char/prepare.py")
    data = np.memmap(path, dtype=np.uint16, mode='r')
    if len(data) and int(data.max()) >= vocab_size:
        raise ValueError(f"{path} holds token id {int(data.max())}, but the checkpoints' tokenizer has "
                         f"{vocab_size} tokens: is data_dir the data the models were trained on?")
    return data


def corpus_word_set(tokenizer, vocab_size):
    """Every word of data_dir/train.bin, decoded with the checkpoints' tokenizer."""
    data = read_tokens(os.path.join(data_dir, 'train.bin'), vocab_size)
    return set(words(tokenizer.decode(data.tolist())))


def validation_tiles(vocab_size, n, length):
    """(n, length): the windows that tile data_dir/val.bin without overlap, in order (n None: all of
    them), or a seeded random n of them."""
    data = read_tokens(os.path.join(data_dir, 'val.bin'), vocab_size)
    tiles = len(data) // length
    if tiles < 1 or (n is not None and not 1 <= n <= tiles):
        raise ValueError(f"{data_dir}/val.bin has {tiles} windows of {length} tokens; num_sequences must lie in "
                         f"[1, {tiles}] (or None: all), got {n!r}")
    which = np.arange(tiles) if n is None else np.sort(np.random.default_rng(seed).choice(tiles, n, replace=False))
    return windows(data, which * length, length)


def validation_tokens(vocab_size, n, length):
    """n random windows of length tokens from data_dir/val.bin, (n, length), seeded."""
    data = read_tokens(os.path.join(data_dir, 'val.bin'), vocab_size)
    if len(data) <= length:
        raise ValueError(f"{data_dir}/val.bin has {len(data)} tokens, too few for windows of {length}")
    return windows(data, np.random.default_rng(seed).integers(0, len(data) - length, n), length)


def windows(data, starts, length):
    """(len(starts), length) long on the device: the windows of data that begin at starts."""
    return torch.from_numpy(np.stack([data[s:s + length] for s in starts]).astype(np.int64)).to(device)


def load_models(rows, models_dtype=None, windowed=False):
    """(unmasker, its info, judge, {remasker file: remasker}) for rows, each checked against the
    unmasker by sample.py's own loading functions; the unmasker and remaskers in models_dtype (None:
    the dtype knob), the judge in float32."""
    models_dtype = models_dtype or dtype
    unmasker, u, _, _ = sample.load_models(checkpoint_name, out_dir=out_dir, device=device, dtype=models_dtype,
                                           sequence_length=sequence_length, windowed=windowed)
    judge, j = sample.load_model(judge_name, ('autoregressive',), 'judge_name', out_dir=out_dir, device=device,
                                 dtype='float32')
    if j['tokenizer'] != u['tokenizer'] or j['base_vocab_size'] != u['base_vocab_size']:
        raise ValueError(f"the judge {j['path']} and {u['path']} have different vocabularies")
    if sequence_length > j['model_args']['block_size'] and not windowed:
        raise ValueError(f"sequence_length {sequence_length} exceeds the block_size "
                         f"{j['model_args']['block_size']} of {j['path']}")
    models = {u['path']: (unmasker, u)}  # by path: one file, one model
    for row in rows:
        for key, types in (('unmasker', sample.FILLS), ('remasker', sample.JUDGES)):
            name = row.get(key)
            if name and sample.resolve_checkpoint(name, out_dir) not in models:
                model, r = sample.load_model(name, types, f'{key}={name}', out_dir=out_dir, device=device,
                                             dtype=models_dtype)
                sample.check_compatible(u, r)
                models[r['path']] = (model, r)
            if name and models[sample.resolve_checkpoint(name, out_dir)][1]['training_type'] not in types:
                raise ValueError(f"row {row['name']!r}: {key}={name} is a "
                                 f"{models[sample.resolve_checkpoint(name, out_dir)][1]['training_type']} model; it "
                                 f"must be a {' or '.join(types)} model")
    return unmasker, u, judge, models


def row_models(row, models):
    """(unmasker, remasker or None) of a row: one model object where both name one file, so that it
    fills and judges in one pass (sample.load_models' rule)."""
    unmasker = models[sample.resolve_checkpoint(row.get('unmasker') or checkpoint_name, out_dir)][0]
    remasker = models[sample.resolve_checkpoint(row['remasker'], out_dir)][0] if row.get('remasker') else None
    return unmasker, remasker


def generate_row(row, unmasker, remasker, u, bs, count=None, write=sample.generate, **extra):
    """count (None: num_samples) samples for one row: (tokens (N, L), per-sample forward passes, fills,
    wall seconds of generation). The counts are generate()'s own: a pass that fills and judges counts
    once; each iteration a sample needed filled it once, so its fills are its iterations.
    write: sample.generate, or sample.generate_text with its block_size and context in extra."""
    settings = {k: row[k] for k in GENERATE_KEYS}
    count = num_samples if count is None else count
    tokens, passes, fills = [], [], []
    seconds = 0.0
    for b, start in enumerate(range(0, count, bs)):
        n = min(bs, count - start)
        generator = torch.Generator(device=device).manual_seed(sample.batch_seed(seed, b))
        synchronize(device)
        t0 = time.perf_counter()
        x, info = write(unmasker, remasker, batch_size=n, sequence_length=sequence_length,
                        base_vocab_size=u['base_vocab_size'], mask_token_id=u['mask_token_id'],
                        wrong_token_id=u['wrong_token_id'], mode=row['mode'], generator=generator, **settings, **extra)
        synchronize(device)
        seconds += time.perf_counter() - t0
        tokens.append(x)
        passes += info['passes'].tolist()
        fills += info['fills'].tolist()
    return torch.cat(tokens), passes, fills, seconds


@torch.no_grad()
def judge_bits(judge, tokens, base_vocab_size, bs):
    """token_bits of each row of tokens (N, L) under the judge, bs rows at a time: (N, L-1) on the CPU."""
    return torch.cat([token_bits(judge(tokens[i:i + bs])[0], tokens[i:i + bs], base_vocab_size).cpu()
                      for i in range(0, tokens.size(0), bs)])


def judge_bpc(judge, tokens, base_vocab_size, bs):
    """Bits per character of each row of tokens (N, L) under the judge: (N,)."""
    return judge_bits(judge, tokens, base_vocab_size, bs).mean(dim=1).numpy()


def _finite(x):
    """x, or None where it is not a finite number (JSON has no NaN)."""
    return x if math.isfinite(x) else None


def run_row(row, models, tokenizer, corpus_words, bs, hardware):
    """Generate (or read) one row's samples and score them: the row's result, a dict."""
    _, u, judge, loaded = models
    if row['mode'] == 'validation':
        t0 = time.perf_counter()
        tokens = validation_tokens(u['base_vocab_size'], num_samples, sequence_length)
        seconds = time.perf_counter() - t0
        passes = fills = [0] * num_samples
    else:
        unmasker, remasker = row_models(row, loaded)
        tokens, passes, fills, seconds = generate_row(row, unmasker, remasker, u, bs)
    texts = [tokenizer.decode(t) for t in tokens.tolist()]
    per_sample = {'bpc': judge_bpc(judge, tokens, u['base_vocab_size'], bs)}
    by_text = [text_metrics(text, corpus_words) for text in texts]
    for key in by_text[0]:
        per_sample[key] = [m[key] for m in by_text]
    per_sample['passes'] = passes
    per_sample['fills'] = fills
    metrics = {}
    for key, values in per_sample.items():
        mean, ci = mean_ci(values)
        metrics[key] = {'mean': _finite(mean), 'ci95': _finite(ci)}
    result = {k: row.get(k) for k in ('name', 'family', 'mode', 'unmasker', 'remasker') + GENERATE_KEYS}
    result.update({'num_samples': num_samples, 'sequence_length': sequence_length, 'metrics': metrics,
                   'seconds_per_sample': seconds / num_samples, 'hardware': hardware,
                   'first_sample': texts[0][:show_chars]})
    return result


def _fmt(x, spec):
    return format(x, spec) if x is not None else 'nan'


def table(results):
    """One line per row: name, bpc +- ci, entropy +- ci, distinct ratios, corpus words, cost."""
    width = max(len('row'), *(len(r['name']) for r in results))
    lines = [f"{'row':<{width}}  {'bpc':^14}  {'entropy':^14}  {'dist-1':>6}  {'dist-2':>6}  {'char-4':>6}  "
             f"{'corpus':>6}  {'passes':>7}  {'fills':>6}  {'s/sample':>8}"]
    for r in results:
        m = r['metrics']
        lines.append(
            f"{r['name']:<{width}}  "
            f"{_fmt(m['bpc']['mean'], '.3f'):>6} ± {_fmt(m['bpc']['ci95'], '.3f'):<5}  "
            f"{_fmt(m['entropy']['mean'], '.3f'):>6} ± {_fmt(m['entropy']['ci95'], '.3f'):<5}  "
            f"{_fmt(m['distinct_1']['mean'], '.3f'):>6}  {_fmt(m['distinct_2']['mean'], '.3f'):>6}  "
            f"{_fmt(m['distinct_char4']['mean'], '.3f'):>6}  {_fmt(m['corpus_word_share']['mean'], '.3f'):>6}  "
            f"{_fmt(m['passes']['mean'], '.1f'):>7}  {_fmt(m['fills']['mean'], '.1f'):>6}  "
            f"{r['seconds_per_sample']:>8.4f}")
    return '\n'.join(lines)


CSV_FIELDS = ('name', 'family', 'mode', 'unmasker', 'remasker') + GENERATE_KEYS + ('num_samples', 'sequence_length')


def write_csv(path, results):
    metric_names = list(results[0]['metrics'])
    header = list(CSV_FIELDS) + [f"{m}_{s}" for m in metric_names for s in ('mean', 'ci95')] + \
        ['seconds_per_sample', 'hardware']
    with open(path, 'w', newline='', encoding='utf-8') as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for r in results:
            values = [r.get(k) for k in CSV_FIELDS]  # a knob added since an older JSON was written: empty
            values += [r['metrics'][m][s] for m in metric_names for s in ('mean', 'ci95')]
            writer.writerow(values + [r['seconds_per_sample'], r['hardware']])


def plot_results(path, results):
    """Three panels, one line per row family: bits per character against character entropy (left;
    a method is better where its curve lies lower at the same entropy), and bits per character and
    entropy against forward passes per sample. Validation rows are a star (left) and dashed lines."""
    import matplotlib
    matplotlib.use('Agg')  # files only, no display needed
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    fig, axes = plt.subplots(1, 3, figsize=(19, 5.5))
    families = {}
    for r in results:
        families.setdefault(r['family'], []).append(r)
    mean = lambda r, m: r['metrics'][m]['mean']  # noqa: E731
    ci = lambda r, m: r['metrics'][m]['ci95'] or 0.0  # noqa: E731
    looks = {f: dict(color=f"C{i % 10}", marker='osD^v'[i // 10 % 5], capsize=3)  # one look a family in every panel
             for i, f in enumerate(f for f, m in families.items() if m[0]['mode'] != 'validation')}
    ax = axes[0]
    for family, members in families.items():
        members = sorted(members, key=lambda r: mean(r, 'entropy'))
        style = dict(marker='*', markersize=14, color='gray', linestyle='none') if members[0]['mode'] == 'validation' \
            else looks[family]
        ax.errorbar([mean(r, 'entropy') for r in members], [mean(r, 'bpc') for r in members],
                    xerr=[ci(r, 'entropy') for r in members], yerr=[ci(r, 'bpc') for r in members], label=family,
                    **style)
    ax.set_xlabel('character entropy (bits)')
    ax.set_ylabel('bits per character (judge)')
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    for ax, metric, label in ((axes[1], 'bpc', 'bits per character (judge)'),
                              (axes[2], 'entropy', 'character entropy (bits)')):
        for family, members in families.items():
            if members[0]['mode'] == 'validation':
                ax.axhline(mean(members[0], metric), color='gray', linestyle='--', label=family)
                continue
            members = sorted(members, key=lambda r: mean(r, 'passes'))
            ax.errorbar([mean(r, 'passes') for r in members], [mean(r, metric) for r in members],
                        yerr=[ci(r, metric) for r in members], label=family, **looks[family])
        ax.set_xscale('log')
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))  # 1, 2, 5, 10, 20, 50, ...
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel('forward passes per sample (unmasker + remasker)')
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
    fig.suptitle(f"{results[0]['num_samples']} samples x {results[0]['sequence_length']} tokens per point, "
                 f"{results[0]['hardware']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def row_cost(row):
    """What a row costs, roughly, in forward passes a text: its iterations, twice with a remasker of its own."""
    if row['mode'] == 'validation':
        return 0
    shared = row.get('remasker') and row.get('unmasker') == row['remasker']
    return row['diffusion_iterations'] * (2 if row.get('remasker') and not shared else 1)


class Progress:
    """One line on stderr as each row starts and ends: rows done of rows, elapsed time, and an estimate of
    the time left (the seconds a forward pass has cost so far, times the passes the rows left need)."""

    def __init__(self, rows, log):
        self.rows, self.log, self.t0, self.done_rows, self.cost_done = rows, log, time.perf_counter(), 0, 0

    def start(self, row):
        self.log(f"row {self.done_rows + 1}/{len(self.rows)} {row['name']} ...")

    def done(self, row, what):
        self.done_rows += 1
        self.cost_done += row_cost(row)
        elapsed = time.perf_counter() - self.t0
        left = sum(row_cost(r) for r in self.rows[self.done_rows:])
        estimate = f", about {_duration(elapsed * left / self.cost_done)} left" if self.cost_done else ''
        self.log(f"row {self.done_rows}/{len(self.rows)} {row['name']}: {what}; {_duration(elapsed)} elapsed{estimate}")


def _duration(seconds):
    return f"{seconds:.0f}s" if seconds < 60 else f"{seconds // 60:.0f}m{seconds % 60:02.0f}s"


def run_quality():
    # everything that can be checked is checked before the (long) work starts
    sample.check_device(device, dtype)
    for name, value in (('num_samples', num_samples), ('sequence_length', sequence_length), ('batch_size', batch_size)):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if show_chars < 0:
        raise ValueError(f"show_chars must be at least 0, got {show_chars}")
    for knob, path in (('out_json', out_json), ('out_csv', out_csv), ('plot', plot)):
        check_output_path(knob, path)
    if plot:
        require_matplotlib()
    values = parse_sweep_values(sweep, sweep_values) if sweep else None
    bench_rows = expand_sweep(parse_rows(rows), sweep, values)
    check_rows(bench_rows)
    bs = batch_size if batch_size is not None else DEFAULT_BATCH_SIZE['quality']

    t0 = time.perf_counter()
    models = load_models(bench_rows)
    u = models[1]
    tokenizer = build_tokenizer(u['tokenizer'])
    corpus_words = corpus_word_set(tokenizer, u['base_vocab_size'])
    hardware = device_name(device)
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    log(f"loaded the models and {len(corpus_words)} corpus words in {time.perf_counter() - t0:.1f}s")

    results, progress = [], Progress(bench_rows, log)
    for row in bench_rows:
        progress.start(row)
        try:
            results.append(run_row(row, models, tokenizer, corpus_words, bs, hardware))
        except KeyboardInterrupt:
            raise KeyboardInterrupt(f"interrupted in row {len(results) + 1} of {len(bench_rows)}: nothing written "
                                    f"(the results are written when every row is done)") from None
        progress.done(row, f"bpc {_fmt(results[-1]['metrics']['bpc']['mean'], '.3f')}")

    summary = {'what': 'quality', 'hardware': hardware, 'device': device, 'dtype': dtype,
               'checkpoint': checkpoint_name, 'judge': judge_name, 'num_samples': num_samples,
               'sequence_length': sequence_length, 'batch_size': bs, 'seed': seed, 'sweep': sweep,
               'rows': results}
    # the files first, so that `python eval.py | head` loses none of them
    if out_json:
        with open(out_json, 'w', encoding='utf-8') as f:
            json.dump(summary, f, indent=1)
    if out_csv:
        write_csv(out_csv, results)
    if plot:
        plot_results(plot, results)
    print(f"quality of {num_samples} samples x {sequence_length} tokens per row; {hardware}, {device} {dtype}; "
          f"judge {judge_name}; mean ± 95% CI; forward passes and fills per sample")
    print(table(results))
    for r in results:
        print(f"\n{r['name']}: {r['first_sample']!r}")
    print(json.dumps(summary))


def main():
    configure(globals(), sys.argv[1:], keys=_knobs)
    if benchmark not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {benchmark!r}; choose one of {', '.join(BENCHMARKS)} "
                         f"(the speed benchmark is bench.py)")
    try:
        BENCHMARKS[benchmark]()
    except KeyboardInterrupt as e:
        raise KeyboardInterrupt(str(e) or "interrupted: nothing written") from None


BENCHMARKS = {'quality': run_quality, 'likelihood': run_likelihood, 'infill': run_infill, 'long': run_long,
              'remasker': run_remasker}


if __name__ == '__main__':
    run_main(main)
