"""
Measurements of the shipped models. For now: how well a remasker flags wrong characters.

Held-out text (the validation works) is corrupted the two ways train.py knows, a share t ~ U(0, 1)
of each sequence: 'random' (uniform random characters) and 'model' (masked, then refilled by the
unmasking model's samples). A position is wrong where the character differs from the original.
For each remasker and corruption this prints precision and recall of P([WRONG]) > threshold at
the thresholds the guide uses, the AUROC of P([WRONG]), and a calibration table; the last line
is one JSON object with every number.

    $ python bench.py                                  # both shipped remaskers, 16 sequences each
    $ python bench.py --num_sequences=64 --device=cuda
"""

import json
import os
import sys
import time

import numpy as np
import torch

from configurator import ConfigError, configure
from model import corrupt, load_checkpoint, random_positions, wrong_probability

# -----------------------------------------------------------------------------
out_dir = 'checkpoints'  # where the checkpoints are
checkpoint_name = 'ckpt_unmasking.pt'  # the unmasking model ('model' corruption)
remaskers = 'ckpt_remasking_naive_4400.pt,ckpt_remasking_model.pt'  # comma-separated remasking checkpoints
data_dir = 'data/shakespeare_char'  # val.bin from prepare.py
num_sequences = 16  # validation sequences per corruption
sequence_length = 1024  # characters per sequence
batch_size = 8  # sequences per forward pass
thresholds = '0.003,0.005,0.01,0.05,0.5'  # P([WRONG]) thresholds to report (comma-separated)
device = 'cuda' if torch.cuda.is_available() else 'cpu'  # 'cpu' | 'cuda' | 'cuda:N'
seed = 1337  # which sequences, and how they are corrupted
# -----------------------------------------------------------------------------


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


@torch.no_grad()
def remasker_scores(remasker, unmasker, info, clean, corruption, generator):
    """P([WRONG]) and wrongness labels, flattened, for clean (N, T) corrupted by `corruption`."""
    scores, labels = [], []
    for i in range(0, clean.size(0), batch_size):
        chunk = clean[i:i + batch_size]
        B, T = chunk.shape
        picked = random_positions(torch.randint(0, T + 1, (B,), generator=generator, device=chunk.device), T, generator)
        x = corrupt(chunk, picked, info['base_vocab_size'], generator,
                    unmasker if corruption == 'model' else None, info['mask_token_id'])
        logits, _ = remasker(x)
        scores.append(wrong_probability(logits, info['wrong_token_id']).flatten().cpu())
        labels.append((x != chunk).flatten().cpu())
    return torch.cat(scores).numpy(), torch.cat(labels).numpy()


def main():
    configure(globals(), sys.argv[1:])
    ths = [float(t) for t in thresholds.split(',')]
    val_path = os.path.join(data_dir, 'val.bin')
    if not os.path.isfile(val_path):
        raise FileNotFoundError(f"{val_path} not found; make it first: python data/shakespeare_char/prepare.py")
    unmasker, info = load_checkpoint(os.path.join(out_dir, checkpoint_name), device)
    data = np.memmap(val_path, dtype=np.uint16, mode='r')
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(data) - sequence_length, num_sequences)
    clean = torch.from_numpy(np.stack([data[s:s + sequence_length] for s in starts]).astype(np.int64)).to(device)
    hardware = torch.cuda.get_device_name(device) if device.startswith('cuda') else f"CPU, {torch.get_num_threads()} threads"
    print(f"remasker diagnostics on {num_sequences} x {sequence_length} validation characters ({hardware})")
    results = []
    for name in remaskers.split(','):
        remasker, r_info = load_checkpoint(os.path.join(out_dir, name), device)
        for corruption in ('random', 'model'):
            t0 = time.perf_counter()
            g = torch.Generator(device=device).manual_seed(seed)
            scores, labels = remasker_scores(remasker, unmasker, info, clean, corruption, g)
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
            for lo, hi, n, p, w in row['calibration']:
                print(f"  [{lo:.2f}, {hi:.2f}]  {n:>10}  {p:15.3f}  {w:11.3f}")
    print(json.dumps({'what': 'remasker', 'hardware': hardware, 'num_sequences': num_sequences,
                      'sequence_length': sequence_length, 'results': results}))


if __name__ == '__main__':
    try:
        main()
    except (ValueError, FileNotFoundError, ConfigError) as e:
        sys.exit(f"error: {e}")
