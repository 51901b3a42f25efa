"""Shared by the tests: the repository on sys.path, and the scripts run in this process.

Most script runs happen in-process (`run_script`): a subprocess pays seconds to start Python and import
torch, which is most of what a run with a tiny model costs. A few tests per script still start a real
process, for what only one shows: the exit code and stderr of `error: ...` (`import_fresh` runs a
script's top level as `import` would, in this process too)."""

import importlib.util
import os
import runpy
import sys

import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

if os.environ.get('PYTEST_XDIST_WORKER'):  # two workers on two cores: one thread each, and so their subprocesses
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    torch.set_num_threads(1)


@pytest.fixture
def run_script(monkeypatch, capsys):
    """call(script, *args, cwd=None) -> (exit code, stdout, stderr): the repository's script run as
    __main__ in this process, with fresh globals each time, as `python script *args` would run it in
    cwd. An exit by sys.exit('error: ...') gives code 1 and the message on stderr, as Python does."""

    def call(script, *args, cwd=None):
        if cwd is not None:
            monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, 'argv', [script, *map(str, args)])
        capsys.readouterr()  # drop what came before
        code = 0
        try:
            runpy.run_path(os.path.join(ROOT, script), run_name='__main__')
        except SystemExit as e:
            code = e.code
        out = capsys.readouterr()
        if isinstance(code, str):
            return 1, out.out, out.err + code + '\n'
        return code or 0, out.out, out.err
    return call


@pytest.fixture
def import_fresh(monkeypatch, capsys):
    """call(script, *args) -> (stdout, stderr): the repository's script run as `import` runs it (a new
    module named after it, not __main__), with sys.argv = [script, *args], in this process."""

    def call(script, *args):
        monkeypatch.setattr(sys, 'argv', [script, *map(str, args)])
        capsys.readouterr()
        spec = importlib.util.spec_from_file_location(os.path.splitext(script)[0], os.path.join(ROOT, script))
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
        out = capsys.readouterr()
        return out.out, out.err
    return call


def tiny_checkpoint(path, training_type, seed, chars, **overrides):
    """Save a tiny random-weight GPT (1 layer, 16 wide, block 1024 unless overridden) as a checkpoint of
    training_type for a character tokenizer of chars, laid out like the shipped ones; return the model."""
    from model import GPT, GPTConfig, save_checkpoint, special_token_ids
    m, w, vocab = special_token_ids(len(chars), pad_to=8)
    args = dict(block_size=1024, vocab_size=vocab, n_layer=1, n_head=2, n_embd=16)
    args.update(overrides)
    torch.manual_seed(seed)
    model = GPT(GPTConfig(**args))
    save_checkpoint(str(path), model, training_type=training_type, tokenizer={'type': 'char', 'chars': list(chars)},
                    base_vocab_size=len(chars), mask_token_id=m, wrong_token_id=w)
    return model


def assert_error_line(code, out, err, *fragments, alone=True):
    """A script's answer to bad input: exit code 1, nothing on stdout, and on stderr one line
    `error: ...` holding every fragment (alone: the only line; else the last, after the log)."""
    assert code == 1 and out == '', (code, out, err)
    lines = err.strip().splitlines()
    assert lines and (len(lines) == 1 or not alone), err
    assert lines[-1].startswith('error: ') and all(f in lines[-1] for f in fragments), err


def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: takes seconds of its own (torchrun, the Triton interpreter, the shipped '
                                       'main job); `-m "not slow"` leaves them out of a quick run')
