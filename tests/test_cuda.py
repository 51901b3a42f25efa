"""generate() and sample.py on a CUDA device; skipped where there is none (CI has no GPU)."""

import os
import subprocess
import sys

import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import model  # noqa: E402
import sample  # noqa: E402
from model import GPT, GPTConfig  # noqa: E402

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
BASE, MASK, WRONG, V = 61, 61, 62, 64


def _models(dtype):
    torch.manual_seed(0)
    cfg = GPTConfig(block_size=256, vocab_size=V, n_layer=2, n_head=2, n_embd=64)
    return [GPT(cfg).eval().to('cuda', dtype) for _ in range(2)]


@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16, torch.float16])
@pytest.mark.parametrize('mode', sample.MODES)
def test_generate_on_cuda(mode, dtype):
    u, r = _models(dtype)
    kw = dict(batch_size=4, sequence_length=256, base_vocab_size=BASE, mask_token_id=MASK, wrong_token_id=WRONG,
              mode=mode, diffusion_iterations=8, threshold=0.02)
    a, info = sample.generate(u, r, generator=torch.Generator('cuda').manual_seed(1), **kw)
    b, _ = sample.generate(u, r, generator=torch.Generator('cuda').manual_seed(1), **kw)
    assert a.device.type == 'cuda' and a.shape == (4, 256)
    assert ((a >= 0) & (a < BASE)).all()
    assert torch.equal(a, b)
    assert info['iterations'] == 8 or mode == 'threshold'


@pytest.mark.parametrize('mode', ['schedule', 'threshold', 'mixed'])
def test_one_model_that_fills_and_judges_runs_one_pass_an_iteration_and_the_fast_path_is_the_reference(mode):
    u, _ = _models(torch.bfloat16)
    kw = dict(batch_size=4, sequence_length=256, base_vocab_size=BASE, mask_token_id=MASK, wrong_token_id=WRONG,
              mode=mode, diffusion_iterations=8, threshold=0.02, correction_passes=3)
    a, info = sample.generate(u, u, generator=torch.Generator('cuda').manual_seed(1), **kw)
    b, _ = sample.generate(u, u, generator=torch.Generator('cuda').manual_seed(1), fast=False, **kw)
    assert torch.equal(a, b) and ((a >= 0) & (a < BASE)).all()
    assert torch.equal(info['passes'], info['fills'])  # a shared pass counts once


def test_compiled_models_give_valid_text():
    u, r = _models(torch.bfloat16)
    u, r = torch.compile(u), torch.compile(r)
    tokens, info = sample.generate(u, r, batch_size=2, sequence_length=128, base_vocab_size=BASE, mask_token_id=MASK,
                                   wrong_token_id=WRONG, mode='mixed', diffusion_iterations=4, threshold=0.01,
                                   generator=torch.Generator('cuda').manual_seed(0))
    assert ((tokens >= 0) & (tokens < BASE)).all() and info['iterations'] == 4


def test_sample_py_on_cuda_with_shipped_checkpoints():
    if not os.path.isfile(os.path.join(ROOT, 'checkpoints', 'ckpt_fill_and_judge.pt')):
        pytest.skip('no shipped checkpoints')
    res = subprocess.run([sys.executable, 'sample.py', '--device=cuda', '--dtype=bfloat16', '--num_samples=4',
                          '--use_mixed_remasking=True'], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.count('---------------\n') == 4
    assert 'device cuda bfloat16' in res.stderr


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason='needs 2 GPUs')
def test_torchrun_on_two_gpus_writes_the_one_gpu_texts():
    args = ['--device=cuda', '--dtype=bfloat16', '--num_samples=6', '--batch_size=2', '--use_mixed_remasking=True',
            '--sequence_length=256']
    one = subprocess.run([sys.executable, 'sample.py', *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    two = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2',
                          'sample.py', *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    assert two.stdout == one.stdout and one.stdout.count('---------------\n') == 6
    assert 'device 2 processes, cuda' in two.stderr


# -----------------------------------------------------------------------------
# the fused kernels at GPT-2's vocabulary, against the torch code they replace

def _gpt2_logits(rows=4096, vocab=50368, seed=0):
    g = torch.Generator('cuda').manual_seed(seed)
    return (torch.randn(rows // 64, 64, vocab, device='cuda', generator=g) * 3).to(torch.bfloat16)


@pytest.mark.skipif(model.triton is None, reason='needs Triton')
@pytest.mark.parametrize('temperature', [1.0, 0.7])
def test_fused_sampling_draws_the_torch_tokens_on_cuda(temperature, monkeypatch):
    logits = _gpt2_logits()
    fused = model.sample_tokens(logits, 50304, temperature, torch.Generator('cuda').manual_seed(1))
    monkeypatch.setattr(model, '_use_triton', lambda rows: False)
    plain = model.sample_tokens(logits, 50304, temperature, torch.Generator('cuda').manual_seed(1))
    assert fused.shape == plain.shape == (64, 64) and int(fused.max()) < 50304
    # the same u per position; the CDFs differ only in rounding (float32 exp in blocks vs float64), so a
    # draw may flip to its neighbour only where u falls within that rounding of a boundary
    assert (fused == plain).float().mean() > 0.999


@pytest.mark.skipif(model.triton is None, reason='needs Triton')
def test_fused_logsumexp_and_p_wrong_match_torch_on_cuda(monkeypatch):
    logits = _gpt2_logits()
    fused_lse, fused_p = model.log_normaliser(logits), model.wrong_probability(logits, 50305)
    monkeypatch.setattr(model, '_use_triton', lambda rows: False)
    assert torch.allclose(fused_lse, model.log_normaliser(logits), atol=1e-4, rtol=0)
    assert torch.allclose(fused_p, model.wrong_probability(logits, 50305), rtol=1e-3, atol=0)
