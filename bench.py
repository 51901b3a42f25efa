"""
The speed benchmark: tokens per second, iterations per second, peak memory and model FLOP
utilisation of sample.generate() in each mode, on the shipped checkpoints or on a
GPT-2-small-sized pair (--workload=gpt2), against the matmul rate measured in the same run; see
OPTIMIZATIONS.md. The quality and remasker benchmarks are eval.py's.

    $ python bench.py --batch_sizes=1 --modes=mixed                  # the CPU's speed
    $ python bench.py --workload=gpt2 --batch_sizes=64 --dtype=bfloat16 --compile=True
    $ python bench.py --workload=gpt2 --batch_sizes=64 --modes=mixed --profile=True

The FLOPs are those of the forward passes generate() reports it ran (info's passes and positions),
both models, attention included; warm-up runs are left out of the timings, and the device is
synchronised around each timed run.
"""

import json
import os
import sys
import time

import numpy as np
import torch

import model as model_module
import sample
from configurator import configure, knobs, parse_literal, run_main
from model import DTYPES, GPT, GPTConfig, device_name, matmul_peak, save_checkpoint, special_token_ids, synchronize

# -----------------------------------------------------------------------------
workload = 'shipped'  # 'shipped': the checkpoints below | 'gpt2': a GPT-2-small-sized pair, random weights
out_dir = 'checkpoints'  # where the shipped checkpoints are
checkpoint_name = 'ckpt_fill_and_judge.pt'  # the unmasking model (sample.py's default)
remasking_checkpoint_name = 'ckpt_fill_and_judge.pt'  # the remasking model of the modes that use one
device = 'cuda' if torch.cuda.is_available() else 'cpu'  # 'cpu' | 'cuda' | 'cuda:N'
dtype = 'bfloat16' if torch.cuda.is_available() else 'float32'  # 'float32' | 'bfloat16' | 'float16'
seed = 1337  # run k is seeded with (seed, k)
sequence_length = 1024  # tokens per sample
modes = 'random,schedule,threshold,mixed,confidence'  # modes to time (comma-separated)
batch_sizes = '1,8'  # samples per timed generate() call (comma-separated); the README's GPU run uses 64
diffusion_iterations = 30  # of every timed run
threshold = 0.01  # of threshold and mixed modes
repeats = 3  # timed runs per mode and batch size, after one untimed warm-up; the median is reported
fast = True  # False: time sample.generate's plain reference loop instead of its fast path
compile = False  # torch.compile both models (the warm-up run pays for the compilation)
compile_mode = 'default'  # torch.compile's mode: 'default' | 'reduce-overhead' (CUDA graphs) | 'max-autotune' | ...
kernels = True  # False: model.py's torch code instead of its fused Triton sampling and logsumexp kernels (CUDA)
profile = False  # then run each mode once more under torch.profiler and print the operations that took the time
workload_out = ''  # with workload=gpt2: only write its pair as checkpoints into this folder
# -----------------------------------------------------------------------------
_knobs = knobs(globals())  # the names above: what --key=value, config files and --help may touch


def gpt2_pair(device, torch_dtype):
    """(unmasker, remasker, info) of GPT-2-small size (12 layers, 12 heads, 768 wide, block 1024),
    bidirectional, vocabulary 50304 + [MASK] + [WRONG] padded to a multiple of 64, random weights:
    for timing only."""
    base = 50304
    mask_id, wrong_id, vocab = special_token_ids(base, pad_to=64)
    cfg = GPTConfig(block_size=1024, vocab_size=vocab, n_layer=12, n_head=12, n_embd=768, dropout=0.0)
    models = []
    for k in range(2):
        torch.manual_seed(k)
        models.append(GPT(cfg).eval().to(device, torch_dtype))
    info = {'base_vocab_size': base, 'mask_token_id': mask_id, 'wrong_token_id': wrong_id, 'model_args': vars(cfg)}
    return models[0], models[1], info


def write_workload(folder, unmasker, remasker, info):
    """Save the pair as ckpt_unmasking.pt and ckpt_remasking.pt in folder, with a stand-in tokenizer
    of info['base_vocab_size'] distinct characters (the weights are random, so is the text), so that
    `sample.py --out_dir=folder --remasking_checkpoint_name=ckpt_remasking.pt` and torchrun run them."""
    os.makedirs(folder, exist_ok=True)
    base = info['base_vocab_size']
    tokenizer = {'type': 'char', 'chars': [chr(0x100 + i) for i in range(base)]}  # below the surrogates
    for name, m, kind in (('ckpt_unmasking.pt', unmasker, 'unmasking'), ('ckpt_remasking.pt', remasker, 'remasking')):
        save_checkpoint(os.path.join(folder, name), m, training_type=kind, tokenizer=tokenizer, base_vocab_size=base,
                        mask_token_id=info['mask_token_id'], wrong_token_id=info['wrong_token_id'],
                        weights_dtype=torch.bfloat16)
    print(f"wrote the {workload} pair to {folder}/ckpt_unmasking.pt and ckpt_remasking.pt")


def generation_flops(model, info, sequence_length):
    """FLOPs of the forward passes one generate() call ran, from the counts in its info: each pass
    runs the trunk over every position of a row (attention included) and projects onto the
    vocabulary where it was asked to (a fill: info['fill_positions']; a separate remasker's pass:
    everywhere). Both models have model's architecture."""
    L = sequence_length
    head = 2 * model.config.n_embd * model.config.vocab_size  # per position projected
    trunk = L * (model.flops_per_token(L) - head)  # per row pass
    passes = int(info['passes'].sum())
    projected = int(info['fill_positions'].sum()) + L * (passes - int(info['fills'].sum()))
    return passes * trunk + projected * head


def peak_memory():
    """Peak memory of this process so far: GPU bytes allocated on CUDA, else the resident set."""
    if device.startswith('cuda'):
        return torch.cuda.max_memory_allocated(device)
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def profile_run(fn, *args, **kw):
    """Run fn once under torch.profiler and print the operations that took the most device time."""
    from torch.profiler import ProfilerActivity
    cuda = device.startswith('cuda')
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with torch.no_grad(), torch.profiler.profile(activities=activities) as prof:
        fn(*args, **kw)
        synchronize(device)
    print(prof.key_averages().table(sort_by='self_cuda_time_total' if cuda else 'self_cpu_time_total',
                                    row_limit=20, max_name_column_width=60), flush=True)


def comma_list(knob, text, check, expected):
    """The comma-separated knob text as a list of values (Python literals, else strings), each checked."""
    values = [parse_literal(v.strip()) for v in str(text).split(',') if v.strip()]
    bad = [v for v in values if not check(v)]
    if bad or not values:
        raise ValueError(f"{knob}: {bad[0]!r} is not {expected}" if bad else f"{knob} is empty; expected {expected}s")
    return values


def main():
    configure(globals(), sys.argv[1:], keys=_knobs)
    sample.check_device(device, dtype)
    run_modes = comma_list('modes', modes, lambda m: m in sample.MODES, f"a mode ({', '.join(sample.MODES)})")
    batches = comma_list('batch_sizes', batch_sizes,
                         lambda b: isinstance(b, int) and not isinstance(b, bool) and b >= 1, 'a positive integer')
    if not (isinstance(repeats, int) and repeats >= 1):
        raise ValueError(f"repeats must be an integer of at least 1, got {repeats!r}")
    if workload_out and workload != 'gpt2':
        raise ValueError(f"workload_out writes the gpt2 workload's pair; add --workload=gpt2 "
                         f"(workload is {workload!r})")
    if workload == 'shipped':
        unmasker, u, remasker, _ = sample.load_models(checkpoint_name, remasking_checkpoint_name, out_dir=out_dir,
                                                      device=device, dtype=dtype, sequence_length=sequence_length)
    elif workload == 'gpt2':
        unmasker, remasker, u = gpt2_pair(device, DTYPES[dtype])
        if workload_out:
            return write_workload(workload_out, unmasker, remasker, u)
    else:
        raise ValueError(f"unknown workload {workload!r}; choose 'shipped' or 'gpt2'")
    L, T = sequence_length, diffusion_iterations
    if L > u['model_args']['block_size']:
        raise ValueError(f"sequence_length {L} exceeds the models' block_size {u['model_args']['block_size']}")
    model = unmasker
    if compile:
        unmasker, remasker = (torch.compile(m, mode=compile_mode) for m in (unmasker, remasker))
    model_module.FUSED_KERNELS = kernels
    hardware = device_name(device)
    peak = matmul_peak(device, DTYPES[dtype])
    compiled = f", compiled ({compile_mode})" if compile else ''
    fused = 'fused kernels' if model_module.fused_kernels_run_on(device) else 'torch code'
    print(f"speed of sample.generate ({'fast path' if fast else 'reference loop'}{compiled}, {fused} sampling), "
          f"workload {workload}: {L} tokens, {T} iterations, {dtype}; {hardware}; "
          f"measured {dtype} matmul peak {peak / 1e12:.1f} TFLOP/s")
    print(f"{'mode':<11} {'batch':>5} {'seconds':>9} {'tokens/s':>10} {'iter/s':>8} {'TFLOP/s':>8} {'MFU':>6} "
          f"{'peak MiB':>9}")
    results = []
    for mode in run_modes:
        for batch in batches:
            kw = dict(batch_size=batch, sequence_length=L, base_vocab_size=u['base_vocab_size'],
                      mask_token_id=u['mask_token_id'], wrong_token_id=u['wrong_token_id'], mode=mode,
                      diffusion_iterations=T, threshold=threshold if mode in ('threshold', 'mixed') else None,
                      fast=fast)
            if device.startswith('cuda'):
                torch.cuda.reset_peak_memory_stats(device)
            times, flops = [], []
            with torch.no_grad():
                for k in range(repeats + 1):  # run 0 warms up (and compiles)
                    generator = torch.Generator(device=device).manual_seed(sample.batch_seed(seed, k))
                    synchronize(device)
                    t0 = time.perf_counter()
                    x, info = sample.generate(unmasker, remasker, generator=generator, **kw)
                    synchronize(device)
                    if k:
                        times.append(time.perf_counter() - t0)
                        flops.append(generation_flops(model, info, L))
            t, f = float(np.median(times)), float(np.median(flops))
            row = {'mode': mode, 'batch': batch, 'seconds': t, 'tokens_per_s': batch * L / t,
                   'iterations_per_s': info['iterations'] / t, 'iterations': info['iterations'],
                   'flops': f, 'tflops_per_s': f / t / 1e12, 'mfu': f / t / peak,
                   'peak_memory_bytes': peak_memory(), 'times': times}
            results.append(row)
            print(f"{mode:<11} {batch:>5} {t:>9.3f} {row['tokens_per_s']:>10,.0f} {row['iterations_per_s']:>8.1f} "
                  f"{row['tflops_per_s']:>8.2f} {row['mfu']:>6.1%} {row['peak_memory_bytes'] / 2**20:>9,.0f}",
                  flush=True)
            if profile:
                profile_run(sample.generate, unmasker, remasker, generator=generator, **kw)
    print(json.dumps({'what': 'speed', 'hardware': hardware, 'device': device, 'dtype': dtype, 'workload': workload,
                      'fast': fast, 'compile': compile_mode if compile else False,
                      'fused_kernels': fused == 'fused kernels',
                      'sequence_length': L, 'iterations': T,
                      'matmul_peak_flops': peak, 'torch': torch.__version__, 'results': results}))


if __name__ == '__main__':
    run_main(main)
