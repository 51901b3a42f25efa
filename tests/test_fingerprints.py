"""The texts generation writes, frozen: same seed and settings, the same tokens byte for byte, in every
mode, with the defaults and the guide's rule, self-correction, prompts, templates and text longer than a
block. A change that is meant to change no output (a refactor) must leave every digest here as it was.

    $ python tests/test_fingerprints.py --write   # rewrite tests/fingerprints.json (only for a change
                                                 # that is meant to change the texts; say so in its commit)
"""

import hashlib
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import sample  # noqa: E402
from model import GPT, GPTConfig  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FILE = os.path.join(HERE, 'fingerprints.json')
BASE, MASK, WRONG, V = 20, 20, 21, 24
CORRECT = dict(correction_passes=3, correction_share=0.1, correction_reread=0.3)


def tiny(seed):
    """A tiny GPT whose random weights are large enough to make its distributions uneven."""
    torch.manual_seed(seed)
    model = GPT(GPTConfig(block_size=64, vocab_size=V, n_layer=1, n_head=2, n_embd=32)).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(8.0)
    return model


def cases():
    """name -> (function, keyword arguments) of every case."""
    out = {}
    for mode in sample.MODES:
        extra = dict(threshold=0.5) if mode in ('threshold', 'mixed') else {}
        out[f'{mode} defaults'] = dict(mode=mode, **extra)
        out[f'{mode} guide rule'] = dict(mode=mode, **sample.GUIDE_RULE, **extra)
        out[f'{mode} correcting after'] = dict(mode=mode, **CORRECT, **extra)
        out[f'{mode} correcting inside'] = dict(mode=mode, correction_inside=True, **CORRECT, **extra)
        out[f'{mode} correcting by the remasker'] = dict(mode=mode, correction_by='remasker', **CORRECT, **extra)
    out['schedule exponential kept cap 0.1'] = dict(mode='schedule', remasking_schedule='exponential',
                                                    max_remask_kept=0.1)
    out['mixed random from all, temperature 0.8'] = dict(mode='mixed', threshold=0.3, random_from='all',
                                                         temperature=0.8)
    out['confidence correcting, temperature 0.9'] = dict(mode='confidence', temperature=0.9, **CORRECT)
    return out


def digest(tokens):
    return hashlib.sha256(json.dumps(tokens.tolist()).encode()).hexdigest()[:16]


def fingerprint(name, kw):
    u, r = tiny(1), tiny(2)
    B, L, T = 3, 48, 12
    ids = dict(base_vocab_size=BASE, mask_token_id=MASK, wrong_token_id=WRONG)
    g = torch.Generator().manual_seed(7)
    if name.endswith('prompt'):
        fixed = torch.full((B, L), -1)
        fixed[:, :6] = torch.arange(6) % BASE
        kw = dict(kw, fixed=fixed)
    if name.endswith('template'):
        fixed = torch.full((B, L), -1)
        fixed[:, :5] = 3
        fixed[:, 20:30] = torch.arange(10)
        fixed[1, 40:] = 9  # each row its own
        kw = dict(kw, fixed=fixed)
    if name.endswith('long'):
        tokens, _ = sample.generate_text(u, r, batch_size=B, block_size=64, context=16, generator=g,
                                         sequence_length=150, diffusion_iterations=T, **ids, **kw)
        return digest(tokens)
    tokens, _ = sample.generate(u, r, batch_size=B, sequence_length=L, diffusion_iterations=T, generator=g,
                                **ids, **kw)
    return digest(tokens)


def all_cases():
    out = cases()
    for mode in ('schedule', 'mixed', 'fill_once_confidence', 'threshold'):
        extra = dict(threshold=0.5) if mode in ('threshold', 'mixed') else {}
        out[f'{mode} after a prompt'] = dict(mode=mode, **extra)
        out[f'{mode} in a template'] = dict(mode=mode, **extra)
        out[f'{mode} long'] = dict(mode=mode, **extra)
    return out


def compute():
    return {name: fingerprint(name, kw) for name, kw in all_cases().items()}


def test_every_case_writes_the_text_it_wrote_when_frozen():
    with open(FILE) as f:
        frozen = json.load(f)
    now = compute()
    assert set(now) == set(frozen), set(now) ^ set(frozen)
    changed = [name for name in now if now[name] != frozen[name]]
    assert not changed, f"these cases write other texts than when frozen: {changed}"


def test_the_fingerprints_tell_the_cases_apart():
    """A digest that every case shares would freeze nothing: the cases must write different texts."""
    with open(FILE) as f:
        frozen = json.load(f)
    assert len(set(frozen.values())) >= len(frozen) - 6, frozen  # a few settings coincide by design


if __name__ == '__main__':
    if sys.argv[1:] != ['--write']:
        sys.exit("usage: python tests/test_fingerprints.py --write")
    with open(FILE, 'w') as f:
        json.dump(compute(), f, indent=1, sort_keys=True)
        f.write('\n')
    print(f"wrote {FILE}")
