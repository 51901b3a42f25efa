"""
prepare.py and train.py, run the way a user runs them (as scripts) on a tiny corpus with a tiny
model, on CPU. Most of the time is torch's import in each train.py process (~3 s), so the train.py
runs are started together in the background and each test waits for the one it checks.
"""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from model import load_checkpoint  # noqa: E402

PREPARE = os.path.join(ROOT, 'data', 'shakespeare_char', 'prepare.py')
# One thread each: with tiny models, two OpenMP threads on a busy 2-core machine ran ~50x slower.
ENV = {**os.environ, 'OMP_NUM_THREADS': '1'}
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
# train.py runs that need nothing but the data, started at once; (args, True: a tiny training run)
RUNS = {
    'unmasking': (['--training_type=unmasking'], True),
    'unmasking_again': (['--training_type=unmasking'], True),
    'remasking_random': (['--training_type=remasking', '--remasking_corruption=random'], True),
    'remasking_unigram': (['--training_type=remasking', '--remasking_corruption=unigram'], True),
    'autoregressive': (['--training_type=autoregressive'], True),
    'bad_training_type': (['--training_type=diffusion'], False),
    'no_data': ([*TINY, '--data_dir=nowhere'], False),
    'no_unmasker': ([*TINY, '--training_type=remasking', '--remasking_corruption=model',
                     '--unmasking_checkpoint=nowhere/nope.pt'], False),
    'no_resume_checkpoint': ([*TINY, '--init_from=resume'], False),
}
# the same under torchrun: two processes on the CPU, DDP over gloo
TORCHRUN = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2']
DDP_RUNS = {
    'ddp': (['--training_type=unmasking', '--gradient_accumulation_steps=2'], True),
    'ddp_odd_accumulation': ([*TINY, '--gradient_accumulation_steps=3'], False),
}


def run(script, *args):
    return subprocess.run([sys.executable, script, *args], cwd=ROOT, env=ENV, capture_output=True, text=True,
                          timeout=300)


class Runs:
    """train.py processes running in the background, each in its own out_dir root/name."""

    def __init__(self, data_dir, root):
        self.data_dir, self.root, self.procs = data_dir, root, {}

    def start(self, name, args, train=True, launcher=(sys.executable,)):
        """train=True: a tiny training run that also ships root/name/ship.pt."""
        out_dir = self.root / name
        out_dir.mkdir(exist_ok=True)
        if train:
            args = [f'--ship_dir={out_dir}', '--ship_ckpt_name=ship.pt', *TINY, *args]
        cmd = [*launcher, 'train.py', f'--data_dir={self.data_dir}', f'--out_dir={out_dir}', *args]
        with open(out_dir / 'stdout', 'w') as out, open(out_dir / 'stderr', 'w') as err:
            self.procs[name] = (subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=out, stderr=err), out_dir)

    def result(self, name):
        proc, out_dir = self.procs[name]
        proc.wait(timeout=300)
        return subprocess.CompletedProcess(proc.args, proc.returncode, (out_dir / 'stdout').read_text(),
                                           (out_dir / 'stderr').read_text())

    def trained(self, name):
        """(out_dir, evaluations [(step, train loss, val loss, rest of the line)]) of a run that succeeded."""
        r = self.result(name)
        assert r.returncode == 0, r.stderr
        evals = [(int(s), float(t), float(v), rest) for s, t, v, rest in EVAL_LINE.findall(r.stdout)]
        return self.procs[name][1], evals

    def start_after_unmasking(self):
        """The runs that need the unmasking run's checkpoints, started (once) when it is done."""
        out_dir, _ = self.trained('unmasking')
        if 'resume' not in self.procs:
            self.start('remasking_model', ['--training_type=remasking', '--remasking_corruption=model',
                                           f'--unmasking_checkpoint={out_dir / "ship.pt"}'])
            for corruption in ('sampler', 'adversarial'):
                self.start(f'remasking_{corruption}', ['--training_type=remasking',
                                                       f'--remasking_corruption={corruption}',
                                                       f'--unmasking_checkpoint={out_dir / "ship.pt"}'])
            shutil.copytree(out_dir, self.root / 'resume', ignore=shutil.ignore_patterns('std*'))
            self.start('resume', ['--training_type=unmasking', '--init_from=resume', f'--max_iters={ITERS + 20}'])

    def stop(self):
        for proc, _ in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp('corpus')
    (folder / 'text.txt').write_text(CORPUS)
    r = run(PREPARE, str(folder / 'text.txt'), f'--out_dir={folder}')
    assert r.returncode == 0, r.stderr
    runs = Runs(folder, tmp_path_factory.mktemp('runs'))
    for name, (args, train) in RUNS.items():
        runs.start(name, args, train)
    for name, (args, train) in DDP_RUNS.items():
        runs.start(name, args, train, launcher=TORCHRUN)
    yield runs
    runs.stop()


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


def assert_one_line_error(r, *fragments):
    assert r.returncode != 0
    assert 'Traceback' not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# -----------------------------------------------------------------------------
# train.py: each objective learns, and its checkpoints are complete

def test_train_unmasking(runs):
    out_dir, evals = runs.trained('unmasking')
    runs.start_after_unmasking()
    assert_learned(evals)
    check_checkpoints(out_dir, 'unmasking', evals)


def test_train_remasking_random(runs):
    out_dir, evals = runs.trained('remasking_random')
    assert_learned(evals)
    # the re-masker flags changed characters: precision and recall at P([WRONG]) > 0.5, 0 at the start
    precision, recall = map(float, re.search(r'precision ([\d.]+) recall ([\d.]+)', evals[-1][3]).groups())
    assert precision > 0.5 and recall > 0.5, evals[-1]
    info = check_checkpoints(out_dir, 'remasking', evals)
    assert info['config']['remasking_corruption'] == 'random'


def test_train_remasking_model(runs):
    runs.start_after_unmasking()
    out_dir, evals = runs.trained('remasking_model')
    assert_learned(evals)
    info = check_checkpoints(out_dir, 'remasking', evals)
    assert info['config']['remasking_corruption'] == 'model'
    assert info['config']['unmasking_checkpoint'] == str(runs.procs['unmasking'][1] / 'ship.pt')


def test_train_remasking_unigram(runs):
    out_dir, evals = runs.trained('remasking_unigram')
    assert_learned(evals)
    info = check_checkpoints(out_dir, 'remasking', evals)
    assert info['config']['remasking_corruption'] == 'unigram'


@pytest.mark.parametrize('corruption', ['sampler', 'adversarial'])
def test_train_remasking_on_the_samplers_own_states(runs, corruption):
    runs.start_after_unmasking()
    out_dir, evals = runs.trained(f'remasking_{corruption}')
    assert_learned(evals)
    info = check_checkpoints(out_dir, 'remasking', evals)
    assert info['config']['remasking_corruption'] == corruption


def test_train_init_from_a_checkpoint_fine_tunes_its_weights(runs, tmp_path):
    source, evals = runs.trained('remasking_random')
    r = run('train.py', f'--data_dir={runs.data_dir}', f'--out_dir={tmp_path}', *TINY, '--max_iters=10',
            '--lr_decay_iters=10', '--training_type=remasking', f'--init_from={source / "ship.pt"}')
    assert r.returncode == 0, r.stderr
    first = EVAL_LINE.findall(r.stdout)[0]
    assert int(first[0]) == 0 and abs(float(first[2]) - evals[-1][2]) < 0.05  # the source's weights, at step 0
    _, info = load_checkpoint(os.path.join(tmp_path, 'ckpt.pt'))
    assert info['iter_num'] == 10  # a new run: fresh optimizer, counted from 0
    bad = run('train.py', f'--data_dir={runs.data_dir}', f'--out_dir={tmp_path}', *TINY,
              '--training_type=unmasking', f'--init_from={source / "ship.pt"}')
    assert_one_line_error(bad, "is a 'remasking' model")


def test_train_autoregressive(runs):
    out_dir, evals = runs.trained('autoregressive')
    assert_learned(evals)
    check_checkpoints(out_dir, 'autoregressive', evals)


def test_train_is_deterministic(runs):
    (dir_a, evals_a), (dir_b, evals_b) = runs.trained('unmasking'), runs.trained('unmasking_again')
    assert evals_a == evals_b
    a, _ = load_checkpoint(os.path.join(dir_a, 'ckpt.pt'))
    b, _ = load_checkpoint(os.path.join(dir_b, 'ckpt.pt'))
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_train_resume(runs):
    runs.start_after_unmasking()
    _, before = runs.trained('unmasking')
    out_dir, evals = runs.trained('resume')
    assert evals[0] == before[-1]  # the same weights, evaluated on the same batches
    assert [e[0] for e in evals] == [ITERS, ITERS + 20]
    assert load_checkpoint(os.path.join(out_dir, 'ckpt.pt'))[1]['iter_num'] == ITERS + 20


def test_train_with_ddp_on_two_processes(runs):
    # gradient_accumulation_steps counts micro-batches over all processes: 2 = one on each
    out_dir, evals = runs.trained('ddp')
    stdout = runs.result('ddp').stdout
    assert '(1 x 2 x 16 x 32)' in stdout  # accumulation x processes x batch x block per iteration
    assert_learned(evals)  # evaluated and logged once, by process 0
    check_checkpoints(out_dir, 'unmasking', evals)
    _, single = runs.trained('unmasking')  # one process, one micro-batch of the same size
    assert evals[0][1:3] == single[0][1:3]  # the same initial weights and evaluation batches
    assert evals[-1] != single[-1]  # but twice the data per step


def test_train_ddp_accumulation_must_split_over_the_processes(runs):
    r = runs.result('ddp_odd_accumulation')
    assert r.returncode != 0 and 'Traceback' not in r.stdout
    assert 'gradient_accumulation_steps=3 must be a multiple of the 2 processes' in r.stderr


# -----------------------------------------------------------------------------
# train.py: bad input is one line, no traceback

def test_train_unknown_training_type(runs):
    r = runs.result('bad_training_type')
    assert_one_line_error(r, "unknown training_type 'diffusion'", 'unmasking, remasking, autoregressive')


def test_train_missing_data_dir(runs):
    assert_one_line_error(runs.result('no_data'), 'nowhere/meta.json not found', 'prepare.py')


def test_train_missing_unmasking_checkpoint(runs):
    assert_one_line_error(runs.result('no_unmasker'), 'unmasking_checkpoint', 'nowhere/nope.pt', 'not found')
    assert not os.path.exists(runs.procs['no_unmasker'][1] / 'ckpt.pt')


def test_train_resume_without_checkpoint(runs):
    assert_one_line_error(runs.result('no_resume_checkpoint'), 'cannot resume', 'ckpt.pt not found')


# -----------------------------------------------------------------------------
# prepare.py

def test_prepare_text_file_round_trips(tmp_path):
    text = "Thy drops of rain,\r\nthy café — and ünïcode.\n" * 20 + "The end."
    (tmp_path / 'in.txt').write_text(text, encoding='utf-8', newline='')
    r = run(PREPARE, str(tmp_path / 'in.txt'), f'--out_dir={tmp_path / "out"}')
    assert r.returncode == 0, r.stderr
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


@pytest.mark.parametrize('content', [None, ''])
def test_prepare_bad_input(tmp_path, content):
    path = tmp_path / 'in.txt'
    if content is not None:
        path.write_text(content)
    r = run(PREPARE, str(path), f'--out_dir={tmp_path}')
    assert_one_line_error(r, str(path), 'not found' if content is None else 'empty')
    assert not (tmp_path / 'train.bin').exists()
