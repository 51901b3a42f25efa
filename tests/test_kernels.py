"""model.py's fused Triton kernels (sampling and logsumexp) against the torch code they replace.

On the CPU they run under Triton's interpreter (TRITON_INTERPRET=1, read when the kernels are
defined, so the checks run in one fresh process, each printing its JSON); skipped where Triton is not
installed. On CUDA, test_cuda.py runs the compiled kernels at GPT-2's vocabulary size."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytest.importorskip('triton')
pytestmark = pytest.mark.slow  # one process under Triton's interpreter: a few seconds

PRELUDE = """
import json, os
import torch
import model

def torch_path(fn, *args):
    '''fn(*args) with the kernels switched off: the torch implementation.'''
    os.environ['TRITON_INTERPRET'] = '0'
    try:
        return fn(*args)
    finally:
        os.environ['TRITON_INTERPRET'] = '1'

def both(fn, *args):
    '''(kernel result, torch result); a generator argument is re-seeded for each.'''
    seeded = lambda: [torch.Generator().manual_seed(a.initial_seed()) if isinstance(a, torch.Generator) else a
                      for a in args]
    return fn(*seeded()), torch_path(fn, *seeded())
"""


CHECKS = {}  # name -> code that prints one JSON line; all run in one interpreter process


def check(name, code):
    CHECKS[name] = textwrap.dedent(code)


@pytest.fixture(scope='module')
def results():
    """{name: the JSON its check printed}, every check run after PRELUDE under Triton's interpreter."""
    program = PRELUDE + ''.join(f"\nprint({name!r})\n{code}" for name, code in CHECKS.items())
    env = dict(os.environ, TRITON_INTERPRET='1', PYTHONPATH=ROOT)
    res = subprocess.run([sys.executable, '-c', program], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    lines = res.stdout.strip().splitlines()
    return {lines[i]: json.loads(lines[i + 1]) for i in range(0, len(lines), 2)}


check('interpreter', """
rows = torch.zeros(2, 8)
print(json.dumps({'kernel': model._use_triton(rows), 'off': torch_path(model._use_triton, rows)}))
""")


def test_the_interpreter_runs_the_kernels_not_the_torch_code(results):
    assert results['interpreter'] == {'kernel': True, 'off': False}


# vocabularies of one partial block, several blocks with a partial last one, and a slice of a wider
# tensor (the base vocabulary of logits that also hold [MASK], [WRONG] and padding); bf16 and float32
# logits; temperatures below and above 1. The kernel sums each block's probabilities in float32, the
# torch code everything in float64: where u falls within float32 rounding of a boundary of the CDF
# they may pick neighbouring tokens. For each token that differs, how far u is from that boundary.
check('exact', """
torch.manual_seed(0)
res = []
for V, base, dtype in [(67, 65, torch.float32), (5003, 5003, torch.bfloat16), (4610, 4600, torch.bfloat16)]:
    logits = (torch.randn(4, 4, V) * 4).to(dtype)
    for temperature in (1.0, 0.5, 2.0):
        a, b = both(model.sample_tokens, logits, base, temperature, torch.Generator().manual_seed(7))
        u = 1 - torch.rand(logits.shape[:-1], dtype=torch.float64, generator=torch.Generator().manual_seed(7))
        cdf = torch.softmax(logits[..., :base].double() / temperature, -1).cumsum(-1)
        gaps = [abs(u[i, j] - cdf[i, j, min(a[i, j], b[i, j])]).item() for i, j in (a != b).nonzero().tolist()]
        res.append([V, temperature, a.shape == b.shape, a.numel(), gaps, int(a.max()) < base])
print(json.dumps(res))
""")


def test_fused_sampling_draws_the_torch_tokens_but_at_rounding_boundaries(results):
    out = results['exact']
    assert len(out) == 9
    for V, temperature, same_shape, n, gaps, in_base in out:
        assert same_shape and in_base, (V, temperature)
        assert all(g < 1e-5 for g in gaps), (V, temperature, gaps)  # u at a boundary, within rounding
    assert sum(len(gaps) for *_, gaps, _ in out) <= 2  # of 144 draws


# all the mass on the last token; on the first; a NaN anywhere marks the row with base_vocab_size;
# greedy ignores the kernel
check('edges', """
V = 3000
rows = torch.full((4, V), -30.0)
rows[0, V - 1] = 30.0
rows[1, 0] = 30.0
rows[2, 1234] = float('nan')
rows[3] = torch.linspace(-2, 2, V)
g = torch.Generator().manual_seed(0)
draws = torch.stack([model.sample_tokens(rows, V, 1.0, g) for _ in range(20)])
print(json.dumps({'last': draws[:, 0].tolist(), 'first': draws[:, 1].tolist(), 'nan': draws[:, 2].tolist(),
                  'spread': len(set(draws[:, 3].tolist())), 'greedy': model.sample_tokens(rows, V, 0, g).tolist()}))
""")


def test_fused_sampling_edge_rows(results):
    out = results['edges']
    assert set(out['last']) == {2999} and set(out['first']) == {0} and set(out['nan']) == {3000}
    assert out['spread'] >= 15  # 20 draws from a near-flat 3000-way distribution
    assert out['greedy'] == [2999, 0, 3000, 2999]


check('softmax', """
row = torch.tensor([0.0, 1.0, 2.0, -float('inf'), 0.5] + [-float('inf')] * 2100)
draws = model.sample_tokens(row.expand(400, row.numel()), 5, 1.0, torch.Generator().manual_seed(3))  # a program a row
print(json.dumps({'freq': (torch.bincount(draws, minlength=5).double() / draws.numel()).tolist(),
                  'p': torch.softmax(row[:5], 0).tolist()}))
""")


def test_fused_sampling_follows_the_softmax(results):
    out = results['softmax']
    assert out['freq'][3] == 0.0
    for f, p in zip(out['freq'], out['p']):
        assert abs(f - p) < 0.075  # 400 draws: 3 standard errors (the interpreter runs a program a draw, ~10 ms)


check('logsumexp', """
torch.manual_seed(1)
res = {}
for V, dtype in [(70, torch.float32), (4099, torch.bfloat16)]:
    logits = (torch.randn(3, 5, V) * 6).to(dtype)
    logits[2, 3, V // 2] = float('nan')
    a, b = both(model.log_normaliser, logits)
    ok = ~b.isnan()
    res[V] = {'shape': a.shape == b.shape, 'err': float((a[ok] - b[ok]).abs().max()),
              'nan_same': bool(torch.equal(a.isnan(), b.isnan())), 'nans': int(a.isnan().sum())}
p_a, p_b = both(model.wrong_probability, logits, 4098)
res['p_wrong_err'] = float((p_a - p_b).abs().nan_to_num().max())
print(json.dumps(res))
""")


def test_fused_logsumexp_matches_torch_and_propagates_nan(results):
    out = results['logsumexp']
    for V in ('70', '4099'):
        r = out[V]
        assert r['shape'] and r['nan_same'] and r['nans'] == 1
        assert r['err'] < 1e-5
    assert out['p_wrong_err'] < 1e-6
