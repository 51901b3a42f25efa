"""
train.py and prepare.py on a tiny corpus with a tiny model, on the CPU: the objectives and corruptions
as functions, and the script run the way a user runs it. The training runs happen in this process
(fresh globals each, as `python train.py` would have), cached per module; the torchrun run is two real
processes.
"""

import contextlib
import importlib.util
import io
import json
import math
import os
import re
import runpy
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch

import sample  # noqa: E402
import train  # noqa: E402
from configurator import configure  # noqa: E402
from conftest import ROOT
from model import load_checkpoint  # noqa: E402

PREPARE = os.path.join(ROOT, 'data', 'shakespeare_char', 'prepare.py')
CORPUS = ("To be, or not to be, that is the question:\n"
          "Whether 'tis nobler in the mind to suffer\n"
          "The slings and arrows of outrageous fortune,\n"
          "Or to take arms against a sea of troubles\n") * 40  # 6,880 characters, 27 distinct
ITERS = 100
TINY = ['--device=cpu', '--dtype=float32', '--compile=False', '--n_layer=1', '--n_head=2', '--n_embd=32',
        '--block_size=32', '--batch_size=16', '--dropout=0.0', '--learning_rate=3e-3', '--min_lr=3e-4',
        '--warmup_iters=5', f'--max_iters={ITERS}', f'--lr_decay_iters={ITERS}', '--eval_interval=50',
        '--eval_iters=5', '--log_interval=25']
EVAL_LINE = re.compile(r'^step (\d+): train loss ([\d.]+), val loss ([\d.]+)(.*)$', re.M)
# One thread each: with tiny models, two OpenMP threads on a busy 2-core machine ran ~50x slower.
ENV = {**os.environ, 'OMP_NUM_THREADS': '1'}
TORCHRUN = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2']


def train_py(*args):
    """`python train.py *args` in this process: (exit code, stdout, stderr)."""
    out, err, code = io.StringIO(), io.StringIO(), 0
    argv = sys.argv
    sys.argv = ['train.py', *map(str, args)]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            runpy.run_path(os.path.join(ROOT, 'train.py'), run_name='__main__')
    except SystemExit as e:
        code = e.code
    finally:
        sys.argv = argv
    if isinstance(code, str):  # sys.exit('error: ...')
        return 1, out.getvalue(), err.getvalue() + code + '\n'
    return code or 0, out.getvalue(), err.getvalue()


def evaluations(stdout):
    """[(step, train loss, val loss, rest of the line)] of a run's evaluation lines."""
    return [(int(s), float(t), float(v), rest) for s, t, v, rest in EVAL_LINE.findall(stdout)]


class Runs:
    """Tiny training runs, each in its own out_dir under root, run once and kept for the module."""

    def __init__(self, data_dir, root):
        self.data_dir, self.root, self.done = data_dir, root, {}

    def args(self, name, *args):
        out_dir = self.root / name
        return [f'--data_dir={self.data_dir}', f'--out_dir={out_dir}', '--ship_name=ship.pt', *TINY, *args]

    def trained(self, name, *args):
        """(out_dir, evaluations, stdout) of run `name`, which must succeed; args only on its first use."""
        if name not in self.done:
            code, out, err = train_py(*self.args(name, *args))
            assert code == 0, err
            self.done[name] = (self.root / name, evaluations(out), out)
        return self.done[name]


@pytest.fixture(scope='module')
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp('corpus')
    (folder / 'text.txt').write_text(CORPUS)
    r = subprocess.run([sys.executable, PREPARE, str(folder / 'text.txt'), f'--out_dir={folder}'],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return folder


@pytest.fixture(scope='module')
def ddp(data_dir, tmp_path_factory):
    """train.py under torchrun, two gloo processes, started at once in the background; rank 1's gloo
    workers starved as STARVED_GLOO_WORKERS says (it changes no number, only the odds of a crash at exit)."""
    out_dir = tmp_path_factory.mktemp('ddp')
    args = [f'--data_dir={data_dir}', f'--out_dir={out_dir}', '--ship_name=ship.pt', *TINY, '--training_type=unmasking',
            '--gradient_accumulation_steps=2']
    with open(out_dir / 'stdout', 'w') as o, open(out_dir / 'stderr', 'w') as e:
        proc = subprocess.Popen([*TORCHRUN, 'train.py', *args], cwd=ROOT, env=starved_gloo_env(out_dir), stdout=o,
                                stderr=e)
    yield proc, out_dir
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.fixture(scope='module')
def runs(data_dir, tmp_path_factory):
    return Runs(data_dir, tmp_path_factory.mktemp('runs'))


def assert_learned(evals):
    """Evaluated at 0, 50 and ITERS; the final losses are well below the first."""
    assert [e[0] for e in evals] == [0, 50, ITERS]
    (_, train0, val0, _), (_, train1, val1, _) = evals[0], evals[-1]
    assert train1 < train0 - 0.4 and val1 < val0 - 0.4, evals


def check_checkpoints(out_dir, training_type, evals):
    """The training checkpoint and the shipped float16 one: metadata, special ids, weights."""
    model, info = load_checkpoint(os.path.join(out_dir, 'ckpt.pt'))
    assert info['training_type'] == training_type
    assert info['tokenizer'] == {'type': 'char', 'chars': sorted(set(CORPUS))}
    assert (info['base_vocab_size'], info['mask_token_id'], info['wrong_token_id']) == (27, 27, 28)
    assert model.config.vocab_size == 29
    assert model.config.attention_type == ('causal' if training_type == 'autoregressive' else 'bidirectional')
    assert info['iter_num'] == ITERS
    assert info['best_val_loss'] == pytest.approx(min(e[2] for e in evals), abs=1e-4)
    assert info['config']['training_type'] == training_type

    ship_path = os.path.join(out_dir, 'ship.pt')
    raw = torch.load(ship_path, map_location='cpu', weights_only=True)
    assert 'optimizer' not in raw
    assert all(v.dtype == torch.float16 for v in raw['model'].values() if v.is_floating_point())
    assert os.path.getsize(ship_path) < os.path.getsize(os.path.join(out_dir, 'ckpt.pt')) / 3
    shipped, ship_info = load_checkpoint(ship_path)
    assert ship_info['training_type'] == training_type and ship_info['iter_num'] == ITERS
    for (k, a), b in zip(model.state_dict().items(), shipped.state_dict().values()):
        assert torch.equal(a.half().float(), b), k  # the final weights, rounded to float16
    return info


def assert_one_line_error(code, err, *fragments):
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# -----------------------------------------------------------------------------
# the objectives and corruptions, as functions

TASK = dict(base_vocab_size=5, mask_token_id=5, wrong_token_id=6)


def test_random_positions_have_exactly_the_count_of_each_row_and_vary():
    g = torch.Generator().manual_seed(0)
    counts = torch.tensor([0, 1, 7, 12])
    picks = [train.random_positions(counts, 12, g) for _ in range(20)]
    assert all(p.sum(dim=1).tolist() == counts.tolist() for p in picks)
    assert len({tuple(p[2].nonzero().flatten().tolist()) for p in picks}) > 10  # not a fixed choice


def test_unmasking_batch_masks_an_exact_count_and_predicts_the_originals_there():
    chunk = torch.randint(0, 5, (64, 17), generator=torch.Generator().manual_seed(1))
    task = train.Task(**TASK, fully_masked_fraction=0.5)
    x, y, _ = train.unmasking_batch(chunk, torch.Generator().manual_seed(2), task)
    masked = x == 5
    assert (masked.sum(dim=1) >= 1).all() and (masked.sum(dim=1) == 16).sum() > 16  # half of them, and a few by t
    assert torch.equal(y[masked], chunk[:, :-1][masked]) and (y[~masked] == -1).all()
    assert torch.equal(x[~masked], chunk[:, :-1][~masked])


def test_remasking_batch_marks_wrong_exactly_where_a_character_changed():
    chunk = torch.randint(0, 5, (64, 17), generator=torch.Generator().manual_seed(1))
    task = train.Task(**TASK, corrupt=train.corrupt_random)
    x, y, _ = train.remasking_batch(chunk, torch.Generator().manual_seed(2), task)
    clean = chunk[:, :-1]
    changed = x != clean
    assert changed.any() and (changed.sum(dim=1) == 0).any()  # some rows are left clean on purpose
    assert (y[changed] == 6).all() and torch.equal(y[~changed], clean[~changed])
    assert (x < 5).all()


class ConstantUnmasker(torch.nn.Module):
    """Always predicts token 4."""

    def __init__(self):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, idx):
        logits = torch.full((*idx.shape, 8), -30.0)
        logits[..., 4] = 30.0
        return logits, None


def test_model_corruption_is_one_fill_step_of_the_sampler_and_draws_nothing_else():
    """Regression: the 'model' corruption drew a random corruption first and then overwrote every
    row with the model's, a draw that shifted the random stream for nothing. Now a batch is the
    count, the positions and the sampler's fill step, and nothing more, on one generator."""
    chunk = torch.randint(0, 4, (8, 33), generator=torch.Generator().manual_seed(1))
    task = train.Task(**TASK, corrupt=train.corrupt_model, unmasker=ConstantUnmasker())
    g_batch = torch.Generator().manual_seed(3)
    x, y, _ = train.remasking_batch(chunk, g_batch, task)
    g = torch.Generator().manual_seed(3)  # the same steps by hand
    picked = train.random_positions(torch.randint(0, 33, (8,), generator=g), 32, g)
    expected, _, _ = sample.fill(task.unmasker, torch.where(picked, 5, chunk[:, :-1]), mask_token_id=5,
                                 base_vocab_size=5, temperature=1.0, generator=g)
    assert torch.equal(x, expected) and (x[picked] == 4).all() and picked.any()
    assert torch.equal(g_batch.get_state(), g.get_state())  # and no other draw


def test_losses_weigh_every_position_alike_or_every_sequence_alike():
    logits = torch.zeros(2, 4, 3)  # uniform over 3 tokens: log 3 at every position
    logits[0, 0, 0] = 100.0  # but certain, and right, at row 0's one target
    y = torch.tensor([[0, -1, -1, -1], [0, 1, 2, 0]])
    assert train.token_mean_loss(logits, y).item() == pytest.approx(4 * math.log(3) / 5)
    assert train.sequence_mean_loss(logits, y).item() == pytest.approx((0 + math.log(3)) / 2)


def test_every_objective_and_corruption_is_in_its_table():
    assert set(train.OBJECTIVES) == {'unmasking', 'remasking', 'fill_and_judge', 'autoregressive'}
    assert set(train.JUDGE_TARGETS) == {'reread', 'own_fill'}
    assert set(train.CORRUPTIONS) == {'random', 'model'}


class KnownUnmasker(torch.nn.Module):
    """P(token k) = probs[k] at every position, whatever it reads; records its inputs."""

    def __init__(self, probs):
        super().__init__()
        self.probs, self.inputs = torch.tensor(probs), []

    def forward(self, idx):
        self.inputs.append(idx.clone())
        logits = torch.full((*idx.shape, 8), -math.inf)
        logits[..., :5] = self.probs.log()
        return logits, None


def test_a_soft_target_puts_its_weight_on_wrong_and_the_rest_on_the_token():
    logits = torch.randn(2, 3, 8)
    y = torch.tensor([[1, -1, 2], [0, 3, -1]])
    w = torch.tensor([[0.25, 0.9, 1.0], [0.0, 0.5, 0.3]])
    logp = logits.log_softmax(dim=-1)
    per = torch.stack([-(1 - w[b, t]) * logp[b, t, y[b, t]] - w[b, t] * logp[b, t, 6]
                       for b in range(2) for t in range(3) if y[b, t] != -1])
    assert train.token_mean_loss(logits, y, w, 6).item() == pytest.approx(per.mean().item(), rel=1e-5)
    by_sequence = ((per[0] + per[1]) / 2 + (per[2] + per[3]) / 2).item() / 2
    assert train.sequence_mean_loss(logits, y, w, 6).item() == pytest.approx(by_sequence, rel=1e-5)
    hard = torch.zeros_like(w)
    assert train.token_mean_loss(logits, y, hard, 6).item() == pytest.approx(train.token_mean_loss(logits, y).item())


def test_the_sampler_pool_is_the_samplers_texts():
    from model import GPT, GPTConfig
    torch.manual_seed(0)
    u = GPT(GPTConfig(block_size=16, vocab_size=8, n_layer=1, n_head=2, n_embd=16)).eval()
    task = train.Task(**TASK)
    pool = train.sampler_pool(u, 5, 16, task, 2, torch.Generator().manual_seed(0))
    expected = [sample.generate(u, batch_size=b, sequence_length=16, base_vocab_size=5, mask_token_id=5,
                                wrong_token_id=6, mode='fill_once_confidence', diffusion_iterations=59,
                                correction_passes=0, generator=g)[0]
                for g in [torch.Generator().manual_seed(0)] for b in (2, 2, 1)]
    assert pool.shape == (5, 16) and (pool < 5).all() and torch.equal(pool, torch.cat(expected))


def test_reread_judge_fills_real_texts_masks_and_judges_a_share_of_the_visible_tokens_by_the_rereading():
    probs = [0.4, 0.3, 0.2, 0.05, 0.05]
    clean = torch.randint(0, 4, (64, 21), generator=torch.Generator().manual_seed(0))  # real text: tokens 0-3
    pool = torch.full((3, 24), 4)  # the sampler's texts: all token 4
    u = KnownUnmasker(probs)
    task = train.Task(**TASK, unmasker=u, pool=pool, pool_share=0.5, loo_reread=0.25, judge_target='reread')
    x, y, w = train.fill_and_judge_batch(clean, torch.Generator().manual_seed(1), task)
    real = clean[:, :-1]
    masked, visible = x == 5, x != 5
    seen = visible.any(dim=1)  # rows not masked whole, whose source shows
    sampler = (x == 4).any(dim=1)
    assert 16 < sampler.sum() < 48 and masked.any(dim=1).all()
    mine = masked & (seen & ~sampler)[:, None]
    assert torch.equal(y[mine], real[mine])  # the originals of real text at its [MASK]s
    assert (y[masked & sampler[:, None]] == -1).all()  # a sampler text's [MASK]s have no target
    read = visible & (y != -1)
    assert read.sum(dim=1).tolist() == [round(0.25 * v) for v in visible.sum(dim=1).tolist()]
    assert torch.equal(y[read], x[read]) and torch.equal(u.inputs[0] == 5, masked | read)  # read with both masked
    assert torch.allclose(w[read], 1 - torch.tensor(probs)[x[read]] / 0.4) and (w[~read] == 0).all()


def test_own_fill_judge_marks_wrong_where_the_models_own_fill_differs_from_the_original():
    clean = torch.randint(0, 4, (64, 33), generator=torch.Generator().manual_seed(1))  # never token 4
    task = train.Task(**TASK, unmasker=ConstantUnmasker(), judge_target='own_fill')  # it always fills 4
    x, y, w = train.fill_and_judge_batch(clean, torch.Generator().manual_seed(2), task)
    real = clean[:, :-1]
    own = x == 4
    assert w is None and own.any() and (x == 5).any()  # some fills kept, some [MASK]s left
    assert (y[own] == 6).all()  # every kept fill is wrong here: [WRONG]
    assert torch.equal(y[x == 5], real[x == 5])  # the [MASK]s left: their originals
    assert (y[(x != 5) & ~own] == -1).all() and torch.equal(x[(x != 5) & ~own], real[(x != 5) & ~own])


def test_fill_and_judge_loss_is_the_filling_loss_plus_the_weighted_judging_loss():
    torch.manual_seed(0)
    logits = torch.randn(3, 6, 8)
    x = torch.tensor([[5, 5, 1, 2, 3, 0], [5, 1, 1, 1, 1, 1], [0, 1, 2, 3, 4, 0]])  # row 2: nothing to fill
    y = torch.tensor([[1, 2, 1, -1, 6, -1], [3, -1, 1, -1, -1, -1], [0, -1, -1, -1, -1, 2]])
    task = train.Task(**TASK)
    total, filling, judging = train.fill_and_judge_loss(logits, x, y, None, task, 'sequence', 0.5)
    fills = torch.where(x == 5, y, -1)
    assert filling.item() == pytest.approx(train.sequence_mean_loss(logits[:2], fills[:2]).item())  # rows with a fill
    assert judging.item() == pytest.approx(train.token_mean_loss(logits, torch.where(x == 5, -1, y)).item())
    assert total.item() == pytest.approx(filling.item() + 0.5 * judging.item())


# -----------------------------------------------------------------------------
# train.py: each objective learns, and its checkpoints are complete

def test_train_unmasking(runs):
    out_dir, evals, _ = runs.trained('unmasking', '--training_type=unmasking')
    assert_learned(evals)
    check_checkpoints(out_dir, 'unmasking', evals)


def test_train_remasking_random(runs):
    out_dir, evals, _ = runs.trained('remasking_random', '--training_type=remasking')
    assert_learned(evals)
    # the re-masker flags changed characters: precision and recall at P([WRONG]) > 0.5, 0 at the start
    precision, recall = map(float, re.search(r'precision ([\d.]+) recall ([\d.]+)', evals[-1][3]).groups())
    assert precision > 0.5 and recall > 0.5, evals[-1]
    check_checkpoints(out_dir, 'remasking', evals)


@pytest.mark.parametrize('target', ['reread', 'own_fill'])
def test_train_fill_and_judge_learns_both_and_samples_in_one_pass(runs, target):
    source, _, _ = runs.trained('unmasking', '--training_type=unmasking')
    out_dir, evals, out = runs.trained(f'fill_and_judge_{target}', '--training_type=fill_and_judge',
                                       f'--judge_target={target}', f'--unmasking_checkpoint={source / "ship.pt"}',
                                       '--pool_size=12', f'--init_from={source / "ship.pt"}')
    assert 'starting from the weights of' in out
    judging = [float(re.search(r'judging ([\d.]+)', e[3]).group(1)) for e in evals]
    assert judging[-1] < judging[0] - 0.2, evals  # it learned to judge
    info = check_checkpoints(out_dir, 'fill_and_judge', evals)
    assert info['config']['judge_target'] == target
    model, _ = load_checkpoint(os.path.join(out_dir, 'ship.pt'))
    tokens, info = sample.generate(model, model, batch_size=2, sequence_length=32, base_vocab_size=27, mask_token_id=27,
                                   wrong_token_id=28, mode='schedule', diffusion_iterations=4)
    assert (tokens < 27).all() and info['passes'].tolist() == info['fills'].tolist() == [4, 4]  # one pass each


def test_a_run_writes_only_to_its_out_dir_and_names_the_command_that_samples_with_it(runs, run_script):
    folder = os.path.join(ROOT, 'checkpoints')
    shipped = {f: os.path.getmtime(os.path.join(folder, f)) for f in os.listdir(folder)}
    out_dir, _, out = runs.trained('unmasking', '--training_type=unmasking')
    assert sorted(os.listdir(out_dir)) == ['ckpt.pt', 'ship.pt']
    command = out.strip().splitlines()[-1]
    assert command == ('sample with them: python sample.py config/sample_self_correction.py '
                       f"--checkpoint_name={out_dir / 'ship.pt'}")
    assert {f: os.path.getmtime(os.path.join(folder, f)) for f in shipped} == shipped
    assert sorted(os.listdir(folder)) == sorted(shipped)
    # the command runs as printed (shortened): an unmasker of another size needs no shipped remasker
    code, text, err = run_script(*command.split()[4:], '--sequence_length=40', '--diffusion_iterations=4', cwd=ROOT)
    assert code == 0 and len(text) == 40 + len('\n---------------\n'), err  # one text, its separator


def test_ship_puts_the_weights_in_checkpoints_and_says_when_it_replaced_a_file(runs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # checkpoints/ is the one of the folder the command runs in
    args = [*runs.args('shipping'), '--max_iters=2', '--lr_decay_iters=2', '--eval_interval=2', '--ship=True']
    code, out, err = train_py(*args)
    assert code == 0, err
    assert 'shipped them to checkpoints/ship.pt\n' in out and 'replacing' not in out
    first = (tmp_path / 'checkpoints' / 'ship.pt').read_bytes()
    code, out, err = train_py(*args, '--seed=7')
    assert code == 0, err
    assert 'shipped them to checkpoints/ship.pt, replacing the file there (git checkout -- checkpoints/ship.pt' in out
    assert (tmp_path / 'checkpoints' / 'ship.pt').read_bytes() != first  # the new weights, whole
    assert out.strip().splitlines()[-1] == ('sample with them: python sample.py config/sample_self_correction.py '
                                            '--checkpoint_name=checkpoints/ship.pt')
    assert not list((tmp_path / 'checkpoints').glob('*.tmp'))


@pytest.mark.slow
def test_ctrl_c_in_train_is_one_line_exit_130_and_the_last_checkpoint_whole(data_dir, tmp_path):
    proc = subprocess.Popen([sys.executable, 'train.py', f'--data_dir={data_dir}', f'--out_dir={tmp_path}', *TINY,
                             '--max_iters=100000', '--lr_decay_iters=100000', '--eval_interval=5', '--log_interval=1'],
                            cwd=ROOT, env={**ENV, 'PYTHONUNBUFFERED': '1'}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:  # wait for the first checkpoint
        if line.startswith('saved'):
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('interrupted at iteration '), err
    at = int(re.search(r'holds iteration (\d+) whole: go on with --init_from=resume', lines[0]).group(1))
    _, info = load_checkpoint(os.path.join(tmp_path, 'ckpt.pt'))
    assert info['iter_num'] == at and at % 5 == 0 and at >= 5 and f'the last checkpoint, {tmp_path}/ckpt.pt' in lines[0]


def test_train_reads_its_batches_from_the_files_when_asked(runs):
    out_dir, evals, _ = runs.trained('from_files', '--training_type=unmasking', '--data_on_device=False')
    assert_learned(evals)
    _, on_device, _ = runs.trained('unmasking', '--training_type=unmasking')
    assert evals[0][1:3] != on_device[0][1:3]  # other windows: the batches came by the other path


@pytest.mark.parametrize('preset', sorted(f for f in os.listdir(os.path.join(ROOT, 'config'))
                                          if f.startswith('train_')))
def test_training_presets_set_only_knobs_of_the_right_types(preset):
    g = {k: getattr(train, k) for k in train._knobs}
    g['__annotations__'] = dict(train.__annotations__)
    configure(g, [os.path.join(ROOT, 'config', preset)], keys=train._knobs)  # raises on an unknown knob or type
    assert g['training_type'] in train.OBJECTIVES and g['ship_name'].endswith('.pt') and not g['ship']
    assert g['out_dir'].startswith('out/')  # a preset writes under out/, never to checkpoints/ unless --ship=True


def test_train_autoregressive(runs):
    out_dir, evals, _ = runs.trained('autoregressive', '--training_type=autoregressive')
    assert_learned(evals)
    check_checkpoints(out_dir, 'autoregressive', evals)


def test_train_is_deterministic(runs):
    (dir_a, evals_a, _), (dir_b, evals_b, _) = (runs.trained(name, '--training_type=unmasking')
                                                for name in ('unmasking', 'unmasking_again'))
    assert evals_a == evals_b
    a, _ = load_checkpoint(os.path.join(dir_a, 'ckpt.pt'))
    b, _ = load_checkpoint(os.path.join(dir_b, 'ckpt.pt'))
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_train_resume_goes_on_exactly_as_an_unbroken_run(runs):
    """A run stopped at ITERS and resumed to ITERS + 20 ends with the weights of one run straight to
    ITERS + 20 (the same schedule, batches, dropout and optimizer state): a long run can be carried
    across machines in pieces."""
    common = ['--training_type=unmasking', '--dropout=0.1', f'--lr_decay_iters={ITERS}']
    source, before, _ = runs.trained('dropout', *common)
    shutil.copytree(source, runs.root / 'resume')
    code, out, err = train_py(*runs.args('resume'), *common, f'--max_iters={ITERS + 20}', '--init_from=resume')
    assert code == 0, err
    evals = evaluations(out)
    assert evals[0] == before[-1]  # the same weights, evaluated on the same batches
    assert [e[0] for e in evals] == [ITERS, ITERS + 20]
    _, straight, _ = runs.trained('straight', *common, f'--max_iters={ITERS + 20}')
    assert straight[-1] == evals[-1]
    a, _ = load_checkpoint(os.path.join(runs.root / 'resume', 'ckpt.pt'))
    b, _ = load_checkpoint(os.path.join(runs.root / 'straight', 'ckpt.pt'))
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_train_init_from_a_checkpoint_fine_tunes_its_weights(runs, tmp_path):
    source, evals, _ = runs.trained('remasking_random', '--training_type=remasking')
    code, out, err = train_py(f'--data_dir={runs.data_dir}', f'--out_dir={tmp_path}', *TINY, '--max_iters=10',
                              '--lr_decay_iters=10', '--training_type=remasking', f'--init_from={source / "ship.pt"}')
    assert code == 0, err
    first = evaluations(out)[0]
    assert first[0] == 0 and abs(first[2] - evals[-1][2]) < 0.05  # the source's weights, at step 0
    _, info = load_checkpoint(os.path.join(tmp_path, 'ckpt.pt'))
    assert info['iter_num'] == 10  # a new run: fresh optimizer, counted from 0
    code, _, err = train_py(f'--data_dir={runs.data_dir}', f'--out_dir={tmp_path}', *TINY,
                            '--training_type=unmasking', f'--init_from={source / "ship.pt"}')
    assert_one_line_error(code, err, "is a 'remasking' model")


@pytest.mark.slow
def test_train_with_ddp_on_two_processes(runs, ddp):
    # gradient_accumulation_steps counts micro-batches over all processes: 2 = one on each
    proc, out_dir = ddp
    assert proc.wait(timeout=300) == 0, (out_dir / 'stderr').read_text()
    stdout = (out_dir / 'stdout').read_text()
    evals = evaluations(stdout)
    assert '(1 x 2 x 16 x 32)' in stdout  # accumulation x processes x batch x block per iteration
    assert_learned(evals)  # evaluated and logged once, by process 0
    check_checkpoints(out_dir, 'unmasking', evals)
    # one process, one micro-batch of the same size
    _, single, _ = runs.trained('unmasking', '--training_type=unmasking')
    assert evals[0][1:3] == single[0][1:3]  # the same initial weights and evaluation batches
    assert evals[-1] != single[-1]  # but twice the data per step


# Loaded into rank 1 of a torchrun job as sitecustomize (through PYTHONPATH): it makes the machine
# busy in the way that killed rank 1 at exit (SIGABRT, "terminate called without an active
# exception"), on every run instead of a few in a hundred under load. The gloo worker threads get no
# CPU while the main thread runs (one CPU for the process, SCHED_IDLE workers, no forced GIL hand-over),
# so the work of the last gradient all-reduce is still to be freed when the interpreter tears down; a
# finalizer that blocks then lets a worker run, and it takes the GIL to free that work's Python
# context while the interpreter is finalizing: Python ends the thread inside a C++ destructor.
STARVED_GLOO_WORKERS = """
import os, sys, time
if os.environ.get('RANK') == '1':
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # threads started later inherit it
    sys.setswitchinterval(1000.0)
    import torch.distributed
    _init = torch.distributed.init_process_group

    def init_process_group(*args, **kwargs):
        _init(*args, **kwargs)
        time.sleep(0.2)  # the new threads start and name themselves
        workers = [t for t in os.listdir('/proc/self/task')
                   if open(f'/proc/self/task/{t}/comm').read().strip() == 'pt_gloo_runloop']
        assert workers, 'no gloo worker threads (pt_gloo_runloop) found'
        for t in workers:
            os.sched_setscheduler(int(t), os.SCHED_IDLE, os.sched_param(0))

    torch.distributed.init_process_group = init_process_group

    class SlowTeardown:
        def __del__(self):
            time.sleep(0.5)

    slow_teardown = SlowTeardown()  # freed with this module, during interpreter teardown
"""


LINUX = sys.platform.startswith('linux')


def starved_gloo_env(folder):
    """ENV with STARVED_GLOO_WORKERS loaded into every Python process started from it (Linux: SCHED_IDLE
    and /proc); elsewhere ENV."""
    if not LINUX:
        return ENV
    site = folder / 'starved_gloo'
    site.mkdir()
    (site / 'sitecustomize.py').write_text(STARVED_GLOO_WORKERS)
    return {**ENV, 'PYTHONPATH': os.pathsep.join(filter(None, [str(site), ENV.get('PYTHONPATH')]))}


@pytest.mark.slow
@pytest.mark.skipif(not LINUX, reason='SCHED_IDLE and /proc: Linux only')
def test_train_ddp_exits_cleanly_while_gloo_still_frees_the_last_all_reduce(ddp, data_dir, tmp_path):
    """Regression: rank 1 of train.py under torchrun died at exit (exit code -6) now and then."""
    # two starved runs, the background one and one here: the old code crashed about 9 runs in 10 so,
    # so both pass about once in 100
    proc, out_dir = ddp
    assert proc.wait(timeout=300) == 0 and 'terminate called' not in (out_dir / 'stderr').read_text()
    r = subprocess.run([*TORCHRUN, 'train.py', f'--data_dir={data_dir}', f'--out_dir={tmp_path}', *TINY,
                        '--max_iters=10', '--lr_decay_iters=10', '--eval_interval=10',
                        '--gradient_accumulation_steps=2'],
                       cwd=ROOT, env=starved_gloo_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and 'terminate called' not in r.stderr, r.stderr
    assert [int(s) for s, *_ in EVAL_LINE.findall(r.stdout)] == [0, 10]


# -----------------------------------------------------------------------------
# train.py: bad input is one line, no traceback

@pytest.mark.parametrize('args, fragments', [
    (['--training_type=diffusion'], ["unknown training_type 'diffusion'",
                                      'unmasking, remasking, fill_and_judge, autoregressive']),
    (['--remasking_corruption=model'], ['unknown knob --remasking_corruption', 'did you mean']),
    (['--data_dir=nowhere'], ['nowhere/meta.json not found', 'prepare.py']),
    (['--training_type=fill_and_judge', '--unmasking_checkpoint=nowhere/nope.pt'],
     ['unmasking_checkpoint', 'nowhere/nope.pt', 'not found']),
    (['--init_from=resume'], ['cannot resume', 'ckpt.pt not found']),
    (['--init_from=nope.pt'], ["init_from='nope.pt' is neither"]),
    (['--block_size=100000'], ['fewer than block_size + 1 = 100001']),
    (['--dtype=float8'], ["unknown dtype 'float8'"]),
    (['--loss_weighting=elbo'], ["unknown loss_weighting 'elbo'", 'token, sequence']),
    (['--max_iters=1.5'], ['--max_iters expects int']),
    (['--remasking_target=loo'], ['unknown knob --remasking_target']),
    (['--judge_target=energy'], ["unknown judge_target 'energy'", 'reread, own_fill']),
    (['--pool_size=0'], ['pool_size must be an integer of at least 1, got 0']),
    (['--loo_reread=0'], ['loo_reread must lie in (0, 1], got 0']),
    (['--batch_size=0'], ['batch_size must be an integer of at least 1, got 0']),
    (['--eval_interval=0'], ['eval_interval must be an integer of at least 1, got 0']),
    (['--eval_iters=0'], ['eval_iters must be an integer of at least 1, got 0']),
    (['--n_embd=30', '--n_head=4'], ['n_embd (30) must be a multiple of n_head (4)']),
    (['--dropout=1.0'], ['dropout must lie in [0, 1), got 1.0']),
    (['--learning_rate=0'], ['learning_rate must be a number above 0, got 0']),
    (['--min_lr=0.1'], ['min_lr (0.1) must not exceed learning_rate (0.003)']),
    (['--judge_weight=-1'], ['judge_weight must be a number above 0, got -1']),
    (['--ship_name=out/x.pt'], ["ship_name must be a file name ending in .pt (no folder), got 'out/x.pt'"]),
    (['--ship_name=ckpt.pt'], ["ckpt_name and ship_name are both 'ckpt.pt'"]),
])
def test_train_bad_input(data_dir, tmp_path, args, fragments):
    code, out, err = train_py(f'--data_dir={data_dir}', f'--out_dir={tmp_path}', *TINY, *args)
    assert_one_line_error(code, err, *fragments)
    assert not os.path.exists(tmp_path / 'ckpt.pt')


@pytest.mark.skipif(torch.cuda.is_available(), reason='a machine without CUDA')
@pytest.mark.parametrize('preset', ['train_unmasking.py', 'train_fill_and_judge.py', 'train_judge.py'])
def test_a_gpu_recipe_on_a_cpu_is_one_line_naming_the_laptop_recipes(data_dir, tmp_path, preset):
    code, out, err = train_py(os.path.join(ROOT, 'config', preset), f'--data_dir={data_dir}', f'--out_dir={tmp_path}')
    assert_one_line_error(code, err, "device 'cuda' asked for, but CUDA is not available here; use --device=cpu",
                          'config/train_unmasking_cpu.py')
    assert not os.listdir(tmp_path)


@pytest.mark.slow
def test_train_bad_input_in_a_real_process_and_under_torchrun(data_dir, tmp_path):
    r = subprocess.run([sys.executable, 'train.py', f'--data_dir={data_dir}', '--training_type=diffusion'], cwd=ROOT,
                       env=ENV, capture_output=True, text=True, timeout=120)
    assert_one_line_error(r.returncode, r.stderr, "unknown training_type 'diffusion'")
    assert 'Traceback' not in r.stderr
    r = subprocess.run([*TORCHRUN, 'train.py', f'--data_dir={data_dir}', f'--out_dir={tmp_path}', *TINY,
                        '--gradient_accumulation_steps=3'], cwd=ROOT, env=ENV, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode != 0 and 'Traceback' not in r.stdout
    assert 'gradient_accumulation_steps=3 must be a multiple of the 2 processes' in r.stderr


def test_importing_train_runs_nothing(import_fresh):
    assert import_fresh('train.py', '--bogus=1') == ('', '')


# -----------------------------------------------------------------------------
# prepare.py

@pytest.fixture
def prepare_main(run_script):
    return lambda *args: run_script(os.path.relpath(PREPARE, ROOT), *args)


def test_prepare_text_file_round_trips(prepare_main, tmp_path):
    text = "Thy drops of rain,\r\nthy café — and ünïcode.\n" * 20 + "The end."
    (tmp_path / 'in.txt').write_text(text, encoding='utf-8', newline='')
    code, out, err = prepare_main(tmp_path / 'in.txt', f'--out_dir={tmp_path / "out"}')
    assert code == 0, err
    meta = json.loads((tmp_path / 'out' / 'meta.json').read_text(encoding='utf-8'))
    assert meta['chars'] == sorted(set(text)) and meta['vocab_size'] == len(set(text))
    assert '\r' in meta['chars']  # taken exactly as it is
    decoded = [''.join(meta['chars'][i] for i in np.fromfile(tmp_path / 'out' / f'{split}.bin', dtype=np.uint16))
               for split in ('train', 'val')]
    assert decoded[0] + decoded[1] == text
    assert len(decoded[0]) == int(len(text) * 0.9)  # the last 10% is validation
    assert meta['train_works'] and meta['val_works']


def test_prepare_normalises_shakespeare():
    spec = importlib.util.spec_from_file_location('prepare', PREPARE)
    prepare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(prepare)
    raw = ("TITLE\n\nby William Shakespeare\n\n\n\n\nFIRST LORD. {Aside.]  \n@@@@\n"
           "I have _tremor cordis_ on me;\n    *     *     *\nOr I am mad/ or else\n[Exeunt.}\n")
    assert prepare.normalise(raw) == ("TITLE\n\nby William Shakespeare\n\nFIRST LORD. [Aside.]\n"
                                      "I have tremor cordis on me;\nOr I am mad, or else\n[Exeunt.]")
    assert set(prepare.VAL_WORKS) == {'macbeth', 'twelfth_night', 'sonnets'}


def test_prepare_names_a_text_files_data_set_after_it_and_never_replaces_another(prepare_main, tmp_path):
    spec = importlib.util.spec_from_file_location('prepare', PREPARE)
    prepare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(prepare)
    assert prepare.folder_for('/somewhere/my notes.v2.txt') == os.path.join(ROOT, 'data', 'my_notes.v2')
    (tmp_path / 'a.txt').write_text('abc def\n' * 50)
    (tmp_path / 'b.txt').write_text('xyz uvw\n' * 50)
    out = tmp_path / 'set'
    assert prepare_main(tmp_path / 'a.txt', f'--out_dir={out}')[0] == 0
    before = {f: (out / f).read_bytes() for f in ('train.bin', 'val.bin', 'meta.json')}
    code, _, err = prepare_main(tmp_path / 'b.txt', f'--out_dir={out}')
    assert_one_line_error(code, err, f'{out} already holds a data set made from {tmp_path / "a.txt"}', '--overwrite')
    assert {f: (out / f).read_bytes() for f in before} == before  # untouched
    assert prepare_main(tmp_path / 'a.txt', f'--out_dir={out}')[0] == 0  # its own source again: rewritten
    assert prepare_main(tmp_path / 'b.txt', f'--out_dir={out}', '--overwrite')[0] == 0
    assert json.loads((out / 'meta.json').read_text())['source'] == str(tmp_path / 'b.txt')
    assert not list(out.glob('*.tmp'))


@pytest.mark.parametrize('content', [None, ''])
def test_prepare_bad_input(prepare_main, tmp_path, content):
    path = tmp_path / 'in.txt'
    if content is not None:
        path.write_text(content)
    code, out, err = prepare_main(path, f'--out_dir={tmp_path}')
    assert_one_line_error(code, err, str(path), 'not found' if content is None else 'empty')
    assert not (tmp_path / 'train.bin').exists()
