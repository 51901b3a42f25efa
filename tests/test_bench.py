"""bench.py: the quality metrics and the remasker diagnostics on known inputs, the row syntax, the
forward-pass count against generate()'s own loop, and the script end to end on tiny checkpoints."""

import csv
import importlib.util
import json
import math
import os
import runpy
import subprocess
import sys

import numpy as np
import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import bench  # noqa: E402
import sample  # noqa: E402
from model import GPT, GPTConfig, save_checkpoint, special_token_ids  # noqa: E402


# -----------------------------------------------------------------------------
# per-sample metrics

def test_char_entropy_matches_hand_computed_values():
    assert bench.char_entropy('aabb') == pytest.approx(1.0)
    assert bench.char_entropy('aaaa') == 0.0
    assert bench.char_entropy('abcd') == pytest.approx(2.0)
    assert bench.char_entropy('aaab') == pytest.approx(-(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25)))


def test_words_are_lowercased_runs_of_letters_and_apostrophes():
    assert bench.words("O'er the HILL's top, 12 men--and\nyou!") == ["o'er", 'the', "hill's", 'top', 'men', 'and', 'you']
    assert bench.words("'' -- 42") == []


def test_repeated_text_has_low_distinct_n_and_distinct_words_have_one():
    text = 'ab ab ab ab'
    assert bench.distinct_words(text, 1) == pytest.approx(1 / 4)
    assert bench.distinct_words(text, 2) == pytest.approx(1 / 3)
    assert bench.distinct_chars('aaaaaaaa', 4) == pytest.approx(1 / 5)
    assert bench.distinct_words('one two three four five', 1) == 1.0
    assert bench.distinct_words('one two three four five', 2) == 1.0
    assert bench.distinct_chars('abcdefgh', 4) == 1.0
    assert math.isnan(bench.distinct_words('', 1)) and math.isnan(bench.distinct_words('one', 2))


def test_corpus_word_share_all_in_and_none_in():
    corpus = {'the', 'cat', "o'er"}
    assert bench.corpus_word_share("The cat, o'er THE cat.", corpus) == 1.0
    assert bench.corpus_word_share('dog bird fish', corpus) == 0.0
    assert bench.corpus_word_share('the dog', corpus) == 0.5
    assert math.isnan(bench.corpus_word_share('... 42', corpus))


BASE, V = 5, 8  # 5 real tokens, then [MASK], [WRONG] and padding


def test_bits_per_char_of_a_judge_certain_of_the_truth_is_zero():
    tokens = torch.tensor([[0, 3, 1, 4, 4, 2], [2, 2, 0, 1, 3, 0]])
    logits = torch.zeros(2, 6, V)
    logits[..., BASE:] = 100.0  # special ids are left out before the softmax
    for b in range(2):
        for t in range(5):
            logits[b, t, tokens[b, t + 1]] = 60.0  # position t predicts token t+1
    bpc = bench.bits_per_char(logits, tokens, BASE)
    assert bpc.shape == (2,)
    assert bpc.abs().max() < 1e-6


def test_bits_per_char_under_uniform_logits_is_log2_of_the_base_vocabulary():
    tokens = torch.randint(0, BASE, (3, 10), generator=torch.Generator().manual_seed(0))
    logits = torch.zeros(3, 10, V)
    logits[..., BASE:] = 100.0
    assert bench.bits_per_char(logits, tokens, BASE).tolist() == pytest.approx([math.log2(BASE)] * 3)


def test_mean_ci_is_mean_and_196_standard_errors_ignoring_nan():
    mean, ci = bench.mean_ci([1.0, 2.0, 3.0, float('nan')])
    assert mean == pytest.approx(2.0) and ci == pytest.approx(1.96 * 1.0 / math.sqrt(3))
    assert bench.mean_ci([4.0, 4.0]) == (4.0, 0.0)
    assert math.isnan(bench.mean_ci([float('nan')])[0])


# -----------------------------------------------------------------------------
# remasker diagnostics

def test_perfect_remasker_has_precision_recall_and_auroc_one():
    labels = np.array([True, False, True, False, False, True])
    scores = np.where(labels, 0.9, 0.01)
    assert bench.precision_recall(scores, labels, 0.5) == (1.0, 1.0)
    assert bench.auroc(scores, labels) == 1.0


def test_useless_remasker_has_auroc_one_half():
    labels = np.array([True, False, True, False, False, True])
    assert bench.auroc(np.full(6, 0.3), labels) == 0.5
    assert bench.auroc(np.where(labels, 0.01, 0.9), labels) == 0.0  # exactly backwards
    precision, recall = bench.precision_recall(np.full(6, 0.3), labels, 0.5)  # flags nothing
    assert math.isnan(precision) and recall == 0.0


# -----------------------------------------------------------------------------
# forward passes, against generate()'s own loop: one sequence per batch, so every call is its own

class CountingUnmasker(torch.nn.Module):

    def __init__(self):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))  # generate() reads the device from parameters
        self.calls = 0

    def forward(self, idx):
        self.calls += 1
        return torch.zeros(*idx.shape, V), None


class CountingRemasker(torch.nn.Module):
    """P([WRONG]) = p_at(call) everywhere."""

    def __init__(self, p_at):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))
        self.p_at = p_at
        self.calls = 0

    def forward(self, idx):
        p = torch.tensor(self.p_at(self.calls))
        self.calls += 1
        logits = torch.full((*idx.shape, V), -math.inf)
        logits[..., BASE + 1] = p.clamp_min(1e-30).log()
        logits[..., 0] = (1 - p).clamp_min(1e-30).log()
        return logits, None


@pytest.mark.parametrize('mode, p_at, T', [
    ('random', None, 6),
    ('schedule', lambda c: 0.5, 6),
    ('mixed', lambda c: 0.5, 6),
    ('threshold', lambda c: 0.9, 6),  # never converges
    ('threshold', lambda c: 0.9 if c < 2 else 0.0, 6),  # converges after iteration 3
    ('threshold', lambda c: 0.0, 6),  # converges after iteration 1
    ('confidence', None, 6),
])
def test_forward_passes_count_the_calls_generate_makes(mode, p_at, T):
    u = CountingUnmasker()
    r = CountingRemasker(p_at) if p_at else None
    _, info = sample.generate(u, r, batch_size=1, sequence_length=12, base_vocab_size=BASE, mask_token_id=BASE,
                              wrong_token_id=BASE + 1, mode=mode, diffusion_iterations=T, threshold=0.1,
                              generator=torch.Generator().manual_seed(0))
    converged_at = int(info['converged_at'][0])
    assert bench.forward_passes(mode, info['iterations'], converged_at) == (u.calls, r.calls if r else 0)
    assert bench.iterations_needed(info['iterations'], converged_at) == u.calls


def test_forward_passes_of_a_batch_count_each_sample_by_its_own_convergence():
    # row 0 converges after iteration 2; row 1 never does, so the batch runs all 5 iterations
    assert bench.forward_passes('threshold', 5, 2) == (2, 2)
    assert bench.forward_passes('threshold', 5, -1) == (5, 4)
    assert bench.forward_passes('schedule', 30, -1) == (30, 29)
    assert bench.forward_passes('random', 59, -1) == (59, 0)
    assert bench.forward_passes('confidence', 59, -1) == (59, 0)
    assert bench.iterations_needed(5, 2) == 2 and bench.iterations_needed(5, -1) == 5


# -----------------------------------------------------------------------------
# rows and sweeps

def test_rows_parse_literals_fill_defaults_and_name_rows():
    rows = bench.parse_rows("mode=validation; name=fast,mode=random,diffusion_iterations=10,temperature=0.8;"
                            "mode=mixed,remasker=r.pt,remasking_schedule=exponential")
    assert [r['mode'] for r in rows] == ['validation', 'random', 'mixed']
    assert rows[0]['name'] == 'validation'
    assert rows[1]['name'] == 'fast' and rows[1]['diffusion_iterations'] == 10 and rows[1]['temperature'] == 0.8
    assert rows[1]['remasker'] is None and rows[1]['end_ratio'] == 0.1
    assert rows[2]['threshold'] == sample.MIXED_DEFAULT_THRESHOLD  # as sample.py's mixed mode
    assert rows[2]['remasking_schedule'] == 'exponential' and rows[2]['name'] == 'mixed-r-30'


def test_the_default_rows_parse():
    rows = bench.parse_rows(bench._DEFAULT_ROWS)
    assert rows[0]['mode'] == 'validation' and len(rows) == 10


@pytest.mark.parametrize('text, message', [
    ('mode=bogus', "unknown mode 'bogus'"),
    ('name=x', "row 'name=x' has no mode="),
    ('mode=random,iterations=3', "unknown key 'iterations'"),
    ('mode=random,mode=random', 'given twice'),
    ('mode=random,30', 'is not key=value'),
    ('mode=schedule', 'schedule mode needs a remasker'),
    ('mode=random,remasker=r.pt', 'random mode uses no remasker'),
    ('mode=threshold,remasker=r.pt', 'threshold mode needs threshold='),
    ('mode=validation,diffusion_iterations=3', 'a validation row takes only name'),
    (' ; ', 'rows is empty'),
])
def test_bad_rows_are_value_errors(text, message):
    with pytest.raises(ValueError, match=message):
        bench.parse_rows(text)


def test_sweeps_keep_validation_once_and_repeat_the_rows_they_vary():
    rows = bench.parse_rows('mode=validation;name=r,mode=random;name=t,mode=threshold,threshold=0.1,remasker=x.pt')
    swept = bench.expand_sweep(rows, 'iterations', [5, 10])
    assert [r['name'] for r in swept] == ['validation', 'r T=5', 'r T=10', 't T=5', 't T=10']
    assert [r['diffusion_iterations'] for r in swept[1:]] == [5, 10, 5, 10]
    assert [r['family'] for r in swept] == ['validation', 'r', 'r', 't', 't']
    swept = bench.expand_sweep(rows, 'threshold', bench.parse_sweep_values('threshold', '0.01,0.05'))
    assert [(r['name'], r['threshold']) for r in swept] == [('validation', None), ('t th=0.01', 0.01),
                                                             ('t th=0.05', 0.05)]
    assert bench.parse_sweep_values('iterations', '') == [5, 10, 20, 30, 50, 100]
    assert bench.expand_sweep(rows, '', None) is rows
    with pytest.raises(ValueError, match='needs threshold-mode rows'):
        bench.expand_sweep(rows[:2], 'threshold', [0.1])
    with pytest.raises(ValueError, match="unknown sweep 'bogus'"):
        bench.parse_sweep_values('bogus', '')


def test_importing_bench_runs_nothing():
    code = "import sys; sys.argv = ['bench.py', '--bogus=1']; import bench; print('ok')"
    res = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and res.stdout == 'ok\n' and res.stderr == ''


# -----------------------------------------------------------------------------
# the script, on tiny checkpoints and a tiny corpus

CHARS = list("\n !',.?abcdefghijklmnopqrstuvwxyz")
TRAIN_TEXT = "the cat sat on the mat. o'er the hill, the dog ran!\nwho is there? the king.\n" * 40
VAL_TEXT = "the dog sat on the hill. who ran? the cat is king.\n" * 20


def _tiny(path, training_type, seed, **overrides):
    m, w, vocab = special_token_ids(len(CHARS), pad_to=8)
    args = dict(block_size=64, vocab_size=vocab, n_layer=1, n_head=2, n_embd=16)
    args.update(overrides)
    torch.manual_seed(seed)
    save_checkpoint(str(path), GPT(GPTConfig(**args)), training_type=training_type,
                    tokenizer={'type': 'char', 'chars': CHARS}, base_vocab_size=len(CHARS),
                    mask_token_id=m, wrong_token_id=w)


def _bin(path, text):
    stoi = {c: i for i, c in enumerate(CHARS)}
    np.array([stoi[c] for c in text], dtype=np.uint16).tofile(path)


@pytest.fixture(scope='module')
def workdir(tmp_path_factory):
    """checkpoints/ with tiny models under the shipped names, and data/ with train.bin and val.bin."""
    d = tmp_path_factory.mktemp('bench')
    (d / 'checkpoints').mkdir()
    _tiny(d / 'checkpoints' / 'ckpt_unmasking.pt', 'unmasking', 0)
    _tiny(d / 'checkpoints' / 'ckpt_remasking_naive_4400.pt', 'remasking', 1)
    _tiny(d / 'checkpoints' / 'ckpt_remasking_model.pt', 'remasking', 2)
    _tiny(d / 'checkpoints' / 'ckpt_judge.pt', 'autoregressive', 3, attention_type='causal')
    _tiny(d / 'checkpoints' / 'wide_remasker.pt', 'remasking', 4, n_embd=32)
    (d / 'data').mkdir()
    _bin(d / 'data' / 'train.bin', TRAIN_TEXT)
    _bin(d / 'data' / 'val.bin', VAL_TEXT)
    return d


SMALL = ['--data_dir=data', '--num_samples=4', '--sequence_length=16', '--batch_size=2', '--device=cpu']
ROWS = ('mode=validation;name=random,mode=random,diffusion_iterations=4;'
        'name=schedule,mode=schedule,diffusion_iterations=4,remasker=ckpt_remasking_naive_4400.pt;'
        'name=threshold,mode=threshold,threshold=0.5,diffusion_iterations=4,remasker=ckpt_remasking_model.pt;'
        'name=mixed,mode=mixed,threshold=0.01,diffusion_iterations=4,remasker=ckpt_remasking_model.pt')


def bench_py(workdir, *args):
    """`python bench.py ...` in workdir, as a subprocess."""
    return subprocess.run([sys.executable, os.path.join(ROOT, 'bench.py'), *args], cwd=workdir,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def bench_main(workdir, monkeypatch, capsys):
    """bench.py run as __main__ inside this process, with fresh globals each time (a subprocess pays
    seconds to import torch): call(*args) -> (exit code, stdout, stderr), as the script would give."""
    monkeypatch.chdir(workdir)

    def call(*args):
        monkeypatch.setattr(sys, 'argv', ['bench.py', *args])
        code = 0
        try:
            runpy.run_path(os.path.join(ROOT, 'bench.py'), run_name='__main__')
        except SystemExit as e:
            code = e.code
        out = capsys.readouterr()
        if isinstance(code, str):  # sys.exit('error: ...'): Python prints it and exits with 1
            return 1, out.out, out.err + code + '\n'
        return code, out.out, out.err
    return call


def last_json(stdout):
    return json.loads(stdout.splitlines()[-1])


def test_quality_benchmark_end_to_end(workdir, tmp_path):
    res = bench_py(workdir, *SMALL, f'--rows={ROWS}', f'--out_json={tmp_path / "q.json"}',
                   f'--out_csv={tmp_path / "q.csv"}', '--show_chars=10')
    assert res.returncode == 0, res.stderr
    result = json.loads(res.stdout.splitlines()[-1])
    assert result['what'] == 'quality' and result['num_samples'] == 4 and result['sequence_length'] == 16
    names = ['validation', 'random', 'schedule', 'threshold', 'mixed']
    assert [r['name'] for r in result['rows']] == names
    for r in result['rows']:
        m = r['metrics']
        assert math.isfinite(m['bpc']['mean']) and m['bpc']['mean'] > 0
        assert 0 <= m['entropy']['mean'] <= math.log2(len(CHARS))
        assert r['seconds_per_sample'] >= 0 and r['hardware'].startswith('CPU')
        assert len(r['first_sample']) == 10
        assert r['name'] in res.stdout
    by_name = {r['name']: r['metrics'] for r in result['rows']}
    assert by_name['validation']['forward_passes']['mean'] == 0
    assert by_name['validation']['corpus_word_share']['mean'] > 0.5  # real words, cut at the window's ends
    assert by_name['random']['forward_passes']['mean'] == 4  # 4 unmasker passes, no remasker
    assert by_name['schedule']['unmasker_passes']['mean'] == 4 and by_name['schedule']['remasker_passes']['mean'] == 3
    assert by_name['mixed']['forward_passes']['mean'] == 7
    assert 2 <= by_name['threshold']['forward_passes']['mean'] <= 7
    assert 1 <= by_name['threshold']['iterations']['mean'] <= 4
    assert json.loads((tmp_path / 'q.json').read_text()) == result
    with open(tmp_path / 'q.csv', newline='') as f:
        lines = list(csv.DictReader(f))
    assert [line['name'] for line in lines] == names
    assert float(lines[1]['bpc_mean']) == pytest.approx(by_name['random']['bpc']['mean'])


def test_same_seed_same_numbers_other_seed_other_samples(bench_main):
    args = [*SMALL, '--rows=name=r,mode=random,diffusion_iterations=3']
    runs = [bench_main(*args), bench_main(*args), bench_main(*args, '--seed=7')]
    assert [code for code, _, _ in runs] == [0, 0, 0]
    a, b, c = (last_json(out)['rows'][0] for _, out, _ in runs)
    assert a['metrics'] == b['metrics'] and a['first_sample'] == b['first_sample']
    assert a['first_sample'] != c['first_sample']


def test_iterations_sweep_expands_the_rows(bench_main):
    code, out, err = bench_main(*SMALL, '--rows=mode=validation;name=r,mode=random', '--sweep=iterations',
                                '--sweep_values=2,3')
    assert code == 0, err
    rows = last_json(out)['rows']
    assert [(r['name'], r['family'], r['metrics']['forward_passes']['mean']) for r in rows] == \
        [('validation', 'validation', 0), ('r T=2', 'r', 2), ('r T=3', 'r', 3)]


def test_plot_writes_a_png(bench_main, tmp_path):
    code, out, err = bench_main(*SMALL, '--rows=mode=validation;name=r,mode=random', '--sweep=iterations',
                                '--sweep_values=2,3', f'--plot={tmp_path / "p.png"}')
    assert code == 0, err
    assert (tmp_path / 'p.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_plot_without_matplotlib_is_one_error_line_before_any_work(bench_main, monkeypatch, tmp_path):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec', lambda name, *a: None if name == 'matplotlib' else find_spec(name, *a))
    code, out, err = bench_main(*SMALL, '--rows=mode=validation', f'--plot={tmp_path / "p.png"}')
    assert code == 1 and out == '' and not (tmp_path / 'p.png').exists()
    assert err.strip().splitlines() == [f"error: plot='{tmp_path / 'p.png'}' needs matplotlib, which is not "
                                        f"installed: pip install matplotlib, or leave plot unset"]


def test_confidence_mode_is_passed_to_generate(bench_main):
    code, out, err = bench_main(*SMALL, '--rows=name=c,mode=confidence,diffusion_iterations=3')
    assert code == 0, err
    m = last_json(out)['rows'][0]['metrics']
    assert m['remasker_passes']['mean'] == 0 and m['unmasker_passes']['mean'] <= 3


def test_remasker_benchmark_still_runs(bench_main):
    code, out, err = bench_main('--benchmark=remasker', '--data_dir=data', '--num_sequences=4',
                                '--sequence_length=16', '--device=cpu')
    assert code == 0, err
    result = last_json(out)
    assert result['what'] == 'remasker' and len(result['results']) == 4  # 2 remaskers x 2 corruptions


@pytest.mark.parametrize('args, message', [
    (['--rows=mode=bogus'], "unknown mode 'bogus'"),
    (['--rows=mode=schedule,remasker=nope.pt'], 'checkpoints/nope.pt not found'),
])
def test_bad_input_is_one_error_line_and_exit_code_1(workdir, args, message):
    res = bench_py(workdir, *SMALL, *args)
    assert res.returncode == 1
    assert 'Traceback' not in res.stderr and res.stdout == ''
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ') and message in lines[0], res.stderr


BAD_INPUTS = [
    (['--rows=mode=bogus'], "unknown mode 'bogus'"),
    (['--rows=mode=schedule,remasker=nope.pt'], 'checkpoints/nope.pt not found'),
    (['--rows=name=a,mode=random;name=a,mode=random'], "names must differ, 'a' used more than once"),
    (['--rows=mode=schedule,remasker=wide_remasker.pt'], 'incompatible: n_embd 16 vs 32'),
    (['--rows=mode=schedule,remasker=ckpt_judge.pt'], 'is not a remasking model'),
    (['--rows=mode=random', '--judge_name=ckpt_unmasking.pt'], 'judge_name must name one'),
    (['--rows=mode=random,diffusion_iterations=0'], "row 'random-0': diffusion_iterations must be"),
    (['--rows=mode=random', '--sequence_length=100'], 'exceeds the block_size 64'),
    (['--rows=mode=random', '--data_dir=nowhere'], 'nowhere/train.bin not found'),
    (['--rows=mode=random', '--sweep=threshold'], 'needs threshold-mode rows'),
    (['--rows=mode=random', '--out_json=no/such/dir/x.json'], 'folder no/such/dir does not exist'),
    (['--benchmark=fastest'], "unknown benchmark 'fastest'"),
    (['--num_samples=1.5'], '--num_samples expects int'),
    (['--sweep=iterations', '--sweep_values=2.5', '--rows=mode=random'], 'diffusion_iterations must be an integer'),
    (['--benchmark=speed', '--speed_modes=greedy'], "speed_modes: unknown mode 'greedy'"),
    (['--benchmark=speed', '--speed_batches=0'], 'speed_batches must be positive integers'),
    (['--benchmark=speed', '--workload=gpt3'], "unknown workload 'gpt3'"),
    (['--benchmark=speed', '--repeats=0'], 'repeats must be an integer of at least 1'),
    (['--benchmark=speed', '--sequence_length=100'], 'exceeds the models\' block_size 64'),
]


@pytest.mark.parametrize('args, message', BAD_INPUTS)
def test_every_bad_input_is_one_error_line_and_exit_code_1(bench_main, args, message):
    code, out, err = bench_main(*SMALL, *args)
    assert code == 1 and out == ''
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ') and message in lines[0], err


@pytest.mark.parametrize('preset', sorted(f for f in os.listdir(os.path.join(ROOT, 'config')) if f.startswith('bench_')))
def test_bench_presets_name_only_shipped_remaskers_and_known_rows(preset):
    knobs = {}
    exec(open(os.path.join(ROOT, 'config', preset)).read(), knobs)
    rows = bench.parse_rows(knobs['rows'])
    if knobs.get('sweep'):
        rows = bench.expand_sweep(rows, knobs['sweep'], bench.parse_sweep_values(knobs['sweep'], knobs['sweep_values']))
    assert len(rows) > 1 and rows[0]['mode'] == 'validation'
    for row in rows:
        assert row['remasker'] is None or os.path.isfile(os.path.join(ROOT, 'checkpoints', row['remasker']))


def test_generation_flops_count_what_the_loop_runs():
    """The FLOP count of a generate() call against a sum over its forward passes, by hand."""
    from model import GPT, GPTConfig
    m = GPT(GPTConfig(block_size=16, vocab_size=8, n_layer=1, n_head=2, n_embd=8))
    L, T, per_token, head = 16, 4, m.flops_per_token(16), 2 * 8 * 8
    counts = sample.remask_counts(L, T, 'linear', 1.0, 0.1)
    # random: T unmasker passes; fast: the vocabulary projection only at the [MASK]s
    fast = sum(2 * (L * (per_token - head) + n * head) for n in [L] + counts)
    assert bench.generation_flops(m, 'random', L, T, counts, 2, T, [-1, -1], True) == fast
    assert bench.generation_flops(m, 'random', L, T, counts, 2, T, [-1, -1], False) == 2 * T * L * per_token
    # mixed: plus T-1 remasker passes over everything
    assert bench.generation_flops(m, 'mixed', L, T, counts, 2, T, [-1, -1], False) == 2 * (2 * T - 1) * L * per_token
    # threshold, fast: row 0 converged after iteration 1, so only row 1 runs iterations 2 and 3
    assert bench.generation_flops(m, 'threshold', L, 3, None, 2, 3, [1, -1], True) == \
        (2 + 1 + 1) * L * per_token + (2 + 1) * L * per_token


def test_speed_benchmark_runs_and_ends_with_json(bench_main):
    code, out, err = bench_main(*SMALL, '--benchmark=speed', '--speed_batches=1,2', '--repeats=1',
                                '--speed_iterations=3', '--speed_modes=mixed,threshold')
    assert code == 0, err
    result = last_json(out)
    assert result['what'] == 'speed' and [r['mode'] for r in result['results']] == ['mixed', 'mixed', 'threshold', 'threshold']
    for r in result['results']:
        assert r['seconds'] > 0 and r['flops'] > 0 and 0 < r['mfu'] and r['tokens_per_s'] > 0
