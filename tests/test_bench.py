"""bench.py, the speed benchmark: its FLOP count against models that count their own work, and the
script end to end on tiny checkpoints."""

import json

import pytest
import torch
from test_eval import tiny_models  # noqa: E402

import bench  # noqa: E402
import model  # noqa: E402
import sample  # noqa: E402
from conftest import assert_error_line
from model import GPT, GPTConfig  # noqa: E402


class FlopCounting(GPT):
    """A GPT that adds up the FLOPs of each forward pass from what it is given: the trunk over every
    position of every row, the vocabulary projection where it is asked for."""

    def __init__(self, cfg):
        super().__init__(cfg)
        self.flops = 0

    def forward(self, idx, targets=None, positions=None):
        B, L = idx.shape
        head = 2 * self.config.n_embd * self.config.vocab_size
        projected = B * (L if positions is None else positions.size(1))
        self.flops += B * L * (self.flops_per_token(L) - head) + projected * head
        return super().forward(idx, targets, positions)


@pytest.mark.parametrize('fast', [True, False])
@pytest.mark.parametrize('mode', sample.MODES)
def test_generation_flops_are_what_the_models_ran(mode, fast):
    torch.manual_seed(0)
    cfg = GPTConfig(block_size=24, vocab_size=8, n_layer=1, n_head=2, n_embd=8)
    u, r = FlopCounting(cfg).eval(), FlopCounting(cfg).eval()
    _, info = sample.generate(u, r, batch_size=3, sequence_length=24, base_vocab_size=5, mask_token_id=5,
                              wrong_token_id=6, mode=mode, diffusion_iterations=5, threshold=0.5, fast=fast,
                              generator=torch.Generator().manual_seed(0))
    assert u.flops > 0 and (r.flops > 0) == (mode in sample.NEEDS_REMASKER)
    assert bench.generation_flops(u, info, 24) == u.flops + r.flops


@pytest.fixture(scope='module')
def workdir(tmp_path_factory):
    return tiny_models(tmp_path_factory.mktemp('bench'))


@pytest.fixture
def bench_main(workdir, run_script):
    """`python bench.py *args` in workdir, run in this process: (exit code, stdout, stderr)."""
    return lambda *args: run_script('bench.py', *args, cwd=workdir)


SMALL = ['--sequence_length=16', '--device=cpu']


def test_speed_benchmark_runs_and_ends_with_json(bench_main, monkeypatch):
    peak = model.matmul_peak  # bench.py, run afresh, imports it from model: measured on 256 x 256, seconds less
    monkeypatch.setattr(model, 'matmul_peak', lambda device, dtype: peak(device, dtype, n=256))
    code, out, err = bench_main(*SMALL, '--batch_sizes=1,2', '--repeats=1', '--diffusion_iterations=3',
                                '--modes=mixed,threshold')
    assert code == 0, err
    result = json.loads(out.splitlines()[-1])
    assert result['what'] == 'speed' and [r['mode'] for r in result['results']] == ['mixed', 'mixed', 'threshold',
                                                                                    'threshold']
    for r in result['results']:
        assert r['seconds'] > 0 and r['flops'] > 0 and 0 < r['mfu'] and r['tokens_per_s'] > 0


def test_workload_out_writes_a_pair_sample_py_loads(bench_main, workdir, monkeypatch, tmp_path):
    # the GPT-2 pair shrunk to a tiny one: the same code path, without 500 MB of weights (bench.py, run
    # afresh, imports GPTConfig from model then)
    class Shrunk(GPTConfig):
        def __init__(self, **kw):
            super().__init__(**{**kw, 'n_layer': 1, 'n_embd': 16, 'n_head': 2})
    monkeypatch.setattr(model, 'GPTConfig', Shrunk)
    code, out, err = bench_main('--workload=gpt2', f'--workload_out={tmp_path}', '--dtype=float32')
    assert code == 0, err
    u, info, r, _ = sample.load_models('ckpt_unmasking.pt', 'ckpt_remasking.pt', out_dir=str(tmp_path), device='cpu',
                                       dtype='float32', sequence_length=1024)
    assert info['base_vocab_size'] == 50304 and info['model_args']['vocab_size'] == 50368
    assert info['model_args']['n_layer'] == 1  # the shrunk pair, not GPT-2 small


@pytest.mark.parametrize('args, message', [
    (['--modes=greedy'], "modes: 'greedy' is not a mode"),
    (['--batch_sizes=0'], 'batch_sizes: 0 is not a positive integer'),
    (['--batch_sizes=,'], 'batch_sizes is empty'),
    (['--workload=gpt3'], "unknown workload 'gpt3'"),
    (['--repeats=0'], 'repeats must be an integer of at least 1'),
    (['--sequence_length=100'], "exceeds the models' block_size 64"),
    (['--workload_out=x'], 'add --workload=gpt2'),
    (['--remasking_checkpoint_name=ckpt_judge.pt'],
     'remasking_checkpoint_name must name a remasking or fill_and_judge model'),
    (['--dtype=float8'], 'unknown dtype'),
])
def test_every_bad_input_is_one_error_line_and_exit_code_1(bench_main, args, message):
    assert_error_line(*bench_main(*SMALL, *args), message)


@pytest.mark.slow
def test_help_names_every_benchmark_and_importing_runs_nothing(run_script, import_fresh):
    assert import_fresh('bench.py', '--bogus=1') == ('', '')
    for script, names in (('bench.py', ('speed', 'quality', 'remasker', 'eval.py')),
                          ('eval.py', ('quality', 'remasker', 'long', 'bench.py'))):
        code, out, _ = run_script(script, '--help')
        about = out.split('knobs (default')[0]
        assert code == 0 and all(name in about for name in names), (script, about)
