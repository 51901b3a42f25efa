"""Text longer than the models' block: window_lengths, sample.generate_text against stub models and
tiny GPTs, and sample.py writing it (progress lines, whole samples in out_file)."""

import itertools
import json
import re
import time

import pytest
import torch

import sample
import test_sample
from model import GPT, GPTConfig
from test_sample import BASE, MASK, WRONG, Recorder, V, WrongStub, texts

workdir, sample_main = test_sample.workdir, test_sample.sample_main  # test_sample's fixtures, used here too


@pytest.mark.parametrize('length, prompt, expected', [
    (2000, 0, [(0, 1024), (256, 768), (256, 208)]),
    (1024, 0, [(0, 1024)]),
    (1000, 10, [(10, 990)]),
    (2000, 10, [(10, 1014), (256, 768), (256, 208)]),
    (2000, 1500, [(256, 500)]),  # a prompt longer than a block: only its last context tokens are read
])
def test_window_lengths(length, prompt, expected):
    plan = sample.window_lengths(length, 1024, 256, prompt)
    assert plan == expected and prompt + sum(new for _, new in plan) == length


class Wrong(WrongStub):
    """P([WRONG]) = p at every position, whatever the length."""

    def __init__(self, p):
        super().__init__(torch.zeros(1))
        self.p = p

    def forward(self, idx):
        self.tables = [torch.full(idx.shape, self.p)]
        return super().forward(idx)


def long(unmasker, remasker=None, B=2, L=50, block=20, context=6, T=3, fixed=None, seed=0, **kw):
    """generate_text with stub models, by the guide's literal rule unless kw says otherwise."""
    calls = []
    tokens, info = sample.generate_text(unmasker, remasker, batch_size=B, sequence_length=L, block_size=block,
                                        context=context, base_vocab_size=BASE, mask_token_id=MASK,
                                        wrong_token_id=WRONG, diffusion_iterations=T, fixed=fixed,
                                        generator=torch.Generator().manual_seed(seed),
                                        progress=lambda *a: calls.append(a), **{**sample.GUIDE_RULE, **kw})
    return tokens, info, calls


def test_up_to_a_block_it_is_generate_token_for_token():
    torch.manual_seed(0)
    u = GPT(GPTConfig(block_size=32, vocab_size=V, n_layer=1, n_head=2, n_embd=16)).eval()
    a, info, calls = long(u, L=32, block=32, mode='fill_once_confidence')
    b, _ = sample.generate(u, batch_size=2, sequence_length=32, base_vocab_size=BASE, mask_token_id=MASK,
                           wrong_token_id=WRONG, mode='fill_once_confidence', diffusion_iterations=3,
                           generator=torch.Generator().manual_seed(0), **sample.GUIDE_RULE)
    assert torch.equal(a, b) and info['iterations'] == 3 and len(calls) == 1


@pytest.mark.parametrize('mode', sample.MODES)
def test_each_window_reads_the_last_context_tokens_and_writes_the_rest(mode):
    u = Recorder(torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, -9.0, -9.0, -9.0]))
    fixed = torch.full((2, 50), -1)
    fixed[:, :4] = torch.tensor([3, 1, 4, 1])  # a prompt
    tokens, info, calls = long(u, remasker=Wrong(0.3), mode=mode, fixed=fixed, threshold=0.5,
                               correction_passes=0)
    assert tokens.shape == (2, 50) and (tokens < BASE).all() and torch.equal(tokens[:, :4], fixed[:, :4])
    plan = sample.window_lengths(50, 20, 6, 4)  # (4, 16), then (6, 14) a window
    assert len(calls) == len(plan) == info['windows'] and info['converged_at'].shape == (2, len(plan))
    written, first = 4, 0
    for k, (given, new) in enumerate(plan):
        seen = u.inputs[first]  # the window's first pass: its context given, the rest [MASK]
        assert seen.shape == (2, given + new)
        assert torch.equal(seen[:, :given], tokens[:, written - given:written]) and (seen[:, given:] == MASK).all()
        assert calls[k][0] == k + 1 and calls[k][2].size(1) == written + new  # progress: the text so far
        written += new
        first += info['iterations'][k]
    assert sum(info['iterations']) == len(u.inputs) and torch.equal(info['fills'], torch.full((2,), len(u.inputs)))


def test_threshold_mode_converges_window_by_window():
    tokens, info, _ = long(Recorder(), remasker=Wrong(0.0), mode='threshold', threshold=0.5, T=10)
    assert info['iterations'] == [1] * info['windows'] and (info['converged_at'] == 1).all()
    _, info, _ = long(Recorder(), remasker=Wrong(0.9), mode='threshold', threshold=0.5, T=4)  # never converges
    assert info['iterations'] == [4] * info['windows'] and (info['converged_at'] == -1).all()


def test_a_template_longer_than_a_block_is_refused():
    fixed = torch.full((2, 50), -1)
    fixed[:, 30] = 2  # a given token after a hole
    with pytest.raises(ValueError, match='takes only a prompt'):
        long(Recorder(), mode='random', fixed=fixed)
    with pytest.raises(ValueError, match="context must be an integer from 1 to the models' block_size - 1 = 19"):
        long(Recorder(), mode='random', context=20)


def test_sample_py_writes_long_text_with_a_progress_line_a_window_and_whole_samples(sample_main, tmp_path, monkeypatch):
    out = tmp_path / 'o.jsonl'
    clock = itertools.count()  # a second a reading: the elapsed times are whole and the estimates exact
    monkeypatch.setattr(time, 'perf_counter', lambda: float(next(clock)))
    code, stdout, err = sample_main('--sequence_length=2100', '--context=128', '--diffusion_iterations=3',
                                    '--use_fill_once=True', '--num_samples=2', f'--out_file={out}')
    assert code == 0, err
    assert [len(t) for t in texts(stdout)] == [2100, 2100]
    assert 'written in 3 windows, each next one beginning with the last 128 tokens so far' in err
    lines = [line for line in err.splitlines() if line.startswith('window ')]
    assert [line.split(':')[0] for line in lines] == ['window 1/3', 'window 2/3', 'window 3/3'] * 2
    assert '1024 of 2100 characters' in lines[0] and 'elapsed, about' in lines[0] and 's left' in lines[0]
    # the estimate weighs each window by its positions, given and new: (0, 1024), (128, 896), (128, 180)
    times = [[float(v) for v in re.findall(r'([0-9.]+)s (?:elapsed|left)', line)] for line in lines[:3]]
    for (elapsed, left), rest in zip(times, (1024 + 308, 308, 0)):
        assert elapsed >= 1 and abs(left - elapsed * rest / (2356 - rest)) <= 0.051, (elapsed, left, rest)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r['text'] for r in rows] == texts(stdout) and rows[0]['iterations'] == [3, 3, 3]
    code, stdout, err = sample_main('--sequence_length=2100', '--diffusion_iterations=3', '--verbose=False')
    assert code == 0 and err == '' and len(texts(stdout)[0]) == 2100


def test_long_text_self_corrects_window_by_window_where_a_window_has_a_token_to_correct():
    seen = []
    tokens, info = sample.generate_text(Recorder(), batch_size=1, sequence_length=50, block_size=20, context=6,
                                        base_vocab_size=BASE, mask_token_id=MASK, wrong_token_id=WRONG,
                                        mode='fill_once', diffusion_iterations=21, correction_share=0.1,
                                        generator=torch.Generator().manual_seed(0), watch=seen.append)
    windows = sample.window_lengths(50, 20, 6)  # (0, 20), (6, 14), (6, 14), (6, 2)
    passes = [s.settings.correction_passes for s in seen if s.iteration == 0]
    assert passes == [7, 7, 7, 0]  # a third of 21, and none where 10% of 2 new tokens rounds to 0
    assert [sum(int(s.corrected.sum()) for s in seen[21 * k:21 * k + 21]) > 0 for k in range(len(windows))] == \
        [True, True, True, False]
