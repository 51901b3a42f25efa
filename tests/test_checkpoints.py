"""The checkpoints shipped in checkpoints/: they load weights-only, fit their size budget, agree with
each other, and drive every mode of sample.py to mask-free text of the asked length."""

import os
import subprocess
import sys

import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import sample  # noqa: E402
from model import build_tokenizer, load_checkpoint  # noqa: E402

CKPT = os.path.join(ROOT, 'checkpoints')
SHIPPED = {  # file -> training_type
    'ckpt_unmasking.pt': 'unmasking',
    'ckpt_remasking_naive_4400.pt': 'remasking',
    'ckpt_fill_and_judge.pt': 'fill_and_judge',
    'ckpt_judge.pt': 'autoregressive',
}
MiB = 2 ** 20


def test_shipped_files_and_sizes():
    assert sorted(f for f in os.listdir(CKPT) if f.endswith('.pt')) == sorted(SHIPPED)
    sizes = {f: os.path.getsize(os.path.join(CKPT, f)) for f in SHIPPED}
    assert all(s <= 16 * MiB for s in sizes.values()), sizes
    assert sum(sizes.values()) <= 48 * MiB, sizes


@pytest.mark.parametrize('name', sorted(SHIPPED))
def test_shipped_checkpoint_loads_weights_only(name):
    raw = torch.load(os.path.join(CKPT, name), map_location='cpu', weights_only=True)
    assert raw['training_type'] == SHIPPED[name]
    assert all(v.device.type == 'cpu' for v in raw['model'].values())
    model, info = load_checkpoint(os.path.join(CKPT, name), dtype=torch.float32)
    assert next(model.parameters()).dtype == torch.float32
    assert info['tokenizer']['type'] == 'char' and len(info['tokenizer']['chars']) == info['base_vocab_size']
    assert (info['mask_token_id'], info['wrong_token_id']) == (info['base_vocab_size'], info['base_vocab_size'] + 1)
    assert info['model_args']['attention_type'] == ('causal' if SHIPPED[name] == 'autoregressive' else 'bidirectional')
    if name == 'ckpt_remasking_naive_4400.pt':
        assert info['iter_num'] == 4400  # the name tells the truth


@pytest.fixture(scope='module')
def shipped():
    models = {}
    for name in ('ckpt_unmasking.pt', 'ckpt_remasking_naive_4400.pt', 'ckpt_fill_and_judge.pt'):
        models[name], info = load_checkpoint(os.path.join(CKPT, name))
        sample.check_compatible(load_checkpoint(os.path.join(CKPT, 'ckpt_unmasking.pt'))[1], info)  # raises if not
    return models, info


@pytest.mark.parametrize('pair', [('ckpt_unmasking.pt', 'ckpt_remasking_naive_4400.pt'),
                                  ('ckpt_fill_and_judge.pt', 'ckpt_remasking_naive_4400.pt'),
                                  ('ckpt_fill_and_judge.pt', 'ckpt_fill_and_judge.pt')])  # the last: one pass
@pytest.mark.parametrize('mode', sample.MODES)
def test_shipped_models_generate_mask_free_text_in_every_mode(shipped, pair, mode):
    models, info = shipped
    u, r = models[pair[0]], models[pair[1]]
    tokens, run = sample.generate(u, r, batch_size=2, sequence_length=96, mode=mode,
                                  diffusion_iterations=4, threshold=0.01, base_vocab_size=info['base_vocab_size'],
                                  mask_token_id=info['mask_token_id'], wrong_token_id=info['wrong_token_id'],
                                  generator=torch.Generator().manual_seed(0))
    assert tokens.shape == (2, 96) and (tokens < info['base_vocab_size']).all()
    texts = [build_tokenizer(info['tokenizer']).decode(row) for row in tokens.tolist()]
    assert all(len(t) == 96 for t in texts)
    assert 1 <= run['iterations'] <= 4
    one_pass = u is r and mode in sample.NEEDS_REMASKER
    assert (run['passes'] == run['fills']).all() == (one_pass or mode not in sample.NEEDS_REMASKER)


@pytest.mark.slow
def test_the_main_job_runs_as_shipped():
    """`python sample.py` with its defaults: one 1024-character text from the shipped models."""
    res = subprocess.run([sys.executable, 'sample.py'], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert 'mode: schedule' in res.stderr
    assert 'unmasking and remasking model: checkpoints/ckpt_fill_and_judge.pt (one pass' in res.stderr
    text, sep, rest = res.stdout.rpartition('\n---------------\n')
    assert sep and rest == '' and len(text) == 1024
    with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:  # the quick start shows this run's output
        shown = f.read().split('## Quick start')[1].split('```\nmode: ')[1].split('```')[0]
    assert 'mode: ' + shown.split('\n')[0] == res.stderr.split('\n')[0]
    assert text.startswith(shown.split('\ndone in ')[1].split('\n', 1)[1].rstrip('\n'))


def test_the_readmes_python_example_runs_and_writes_text(monkeypatch, capsys):
    """README's "Python" block, run as written but for a shorter text (one of 64 characters)."""
    with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
        code = f.read().split('## Python\n\n```python\n')[1].split('```')[0]
    short = code.replace('batch_size=4', 'batch_size=1').replace('sequence_length=256', 'sequence_length=64')
    assert short.count('sequence_length=64') == 2 and 'batch_size=1' in short  # the example changed: look again
    monkeypatch.chdir(ROOT)
    exec(compile(short, 'README.md', 'exec'), {})
    text = capsys.readouterr().out
    assert len(text) == 64 + 1 and text.endswith('\n')  # 64 characters of the text, decoded, and print's newline
