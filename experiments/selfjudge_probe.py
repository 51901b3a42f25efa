"""A probe (2026-11-28): can the unmasking model judge the tokens it reads, in the pass in which it fills
others? Its outputs at unmasked positions were never trained. On 16 held-out windows of 1024
characters, a share of positions is re-filled by its own one-pass samples (train.corrupt_model),
others stay [MASK], and 1 - P(token) at the unmasked positions is scored as a detector of the
changed ones (AUROC). From the repository root, on a CPU in about a minute:

    $ python experiments/selfjudge_probe.py
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import eval as evaluation  # noqa: E402
import sample  # noqa: E402
import train  # noqa: E402

torch.set_num_threads(2)
u, info, _, _ = sample.load_models('ckpt_unmasking.pt', out_dir='checkpoints', device='cpu', dtype='float32',
                                   sequence_length=1024)
data = np.memmap('data/shakespeare_char/val.bin', dtype=np.uint16, mode='r')
starts = np.random.default_rng(0).integers(0, len(data) - 1025, 16)
x = torch.from_numpy(np.stack([data[s:s + 1024] for s in starts]).astype(np.int64))
g = torch.Generator().manual_seed(0)
MASK, BASE = info['mask_token_id'], info['base_vocab_size']
task = train.Task(base_vocab_size=BASE, mask_token_id=MASK, wrong_token_id=info['wrong_token_id'], unmasker=u)
with torch.no_grad():
    for share, also_masked in ((0.1, 0.0), (0.1, 0.5), (0.3, 0.3)):
        picked = train.random_positions(torch.full((16,), int(share * 1024)), 1024, g)
        filled = train.corrupt_model(x, picked, g, task)  # the unmasking model's one-pass samples at picked
        wrong = filled != x
        masked = train.random_positions(torch.full((16,), int(also_masked * 1024)), 1024, g) & ~picked
        logits, _ = u(torch.where(masked, MASK, filled))
        p = torch.softmax(logits[..., :BASE].float(), -1).gather(-1, filled[..., None]).squeeze(-1)
        read = ~masked
        print(f"{share:.0%} re-filled, {also_masked:.0%} of the rest [MASK]: {wrong[read].float().mean():.3f} of the "
              f"unmasked wrong; AUROC of 1 - P(token) there {evaluation.auroc((1 - p)[read], wrong[read]):.3f}, "
              f"among the re-filled only {evaluation.auroc((1 - p)[picked & read], wrong[picked & read]):.3f}")
