"""eval.py: the metrics on known inputs, the row syntax, and the script end to end on tiny checkpoints
and a tiny corpus."""

import csv
import functools
import importlib
import importlib.util
import json
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

import sample  # noqa: E402
import train  # noqa: E402
from conftest import ROOT, assert_error_line, tiny_checkpoint

evaluation = importlib.import_module('eval')  # eval.py, under a name that leaves the builtin eval() alone


# -----------------------------------------------------------------------------
# per-sample metrics

def test_char_entropy_matches_hand_computed_values():
    assert evaluation.char_entropy('aabb') == pytest.approx(1.0)
    assert evaluation.char_entropy('aaaa') == 0.0
    assert evaluation.char_entropy('abcd') == pytest.approx(2.0)
    assert evaluation.char_entropy('aaab') == pytest.approx(-(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25)))


def test_words_are_lowercased_runs_of_letters_and_apostrophes():
    assert evaluation.words("O'er the HILL's top, 12 men--and\nyou!") == \
        ["o'er", 'the', "hill's", 'top', 'men', 'and', 'you']
    assert evaluation.words("'' -- 42") == []


def test_repeated_text_has_low_distinct_n_and_distinct_words_have_one():
    text = 'ab ab ab ab'
    assert evaluation.distinct_words(text, 1) == pytest.approx(1 / 4)
    assert evaluation.distinct_words(text, 2) == pytest.approx(1 / 3)
    assert evaluation.distinct_chars('aaaaaaaa', 4) == pytest.approx(1 / 5)
    assert evaluation.distinct_words('one two three four five', 1) == 1.0
    assert evaluation.distinct_words('one two three four five', 2) == 1.0
    assert evaluation.distinct_chars('abcdefgh', 4) == 1.0
    assert math.isnan(evaluation.distinct_words('', 1)) and math.isnan(evaluation.distinct_words('one', 2))


def test_corpus_word_share_all_in_and_none_in():
    corpus = {'the', 'cat', "o'er"}
    assert evaluation.corpus_word_share("The cat, o'er THE cat.", corpus) == 1.0
    assert evaluation.corpus_word_share('dog bird fish', corpus) == 0.0
    assert evaluation.corpus_word_share('the dog', corpus) == 0.5
    assert math.isnan(evaluation.corpus_word_share('... 42', corpus))


BASE, V = 5, 8  # 5 real tokens, then [MASK], [WRONG] and padding


def test_bits_per_char_of_a_judge_certain_of_the_truth_is_zero():
    tokens = torch.tensor([[0, 3, 1, 4, 4, 2], [2, 2, 0, 1, 3, 0]])
    logits = torch.zeros(2, 6, V)
    logits[..., BASE:] = 100.0  # special ids are left out before the softmax
    for b in range(2):
        for t in range(5):
            logits[b, t, tokens[b, t + 1]] = 60.0  # position t predicts token t+1
    bpc = evaluation.bits_per_char(logits, tokens, BASE)
    assert bpc.shape == (2,)
    assert bpc.abs().max() < 1e-6


def test_bits_per_char_under_uniform_logits_is_log2_of_the_base_vocabulary():
    tokens = torch.randint(0, BASE, (3, 10), generator=torch.Generator().manual_seed(0))
    logits = torch.zeros(3, 10, V)
    logits[..., BASE:] = 100.0
    assert evaluation.bits_per_char(logits, tokens, BASE).tolist() == pytest.approx([math.log2(BASE)] * 3)


def test_mean_ci_is_mean_and_196_standard_errors_ignoring_nan():
    mean, ci = evaluation.mean_ci([1.0, 2.0, 3.0, float('nan')])
    assert mean == pytest.approx(2.0) and ci == pytest.approx(1.96 * 1.0 / math.sqrt(3))
    assert evaluation.mean_ci([4.0, 4.0]) == (4.0, 0.0)
    assert math.isnan(evaluation.mean_ci([float('nan')])[0])


# -----------------------------------------------------------------------------
# remasker diagnostics

def test_perfect_remasker_has_precision_recall_and_auroc_one():
    labels = np.array([True, False, True, False, False, True])
    scores = np.where(labels, 0.9, 0.01)
    assert evaluation.precision_recall(scores, labels, 0.5) == (1.0, 1.0)
    assert evaluation.auroc(scores, labels) == 1.0


def test_useless_remasker_has_auroc_one_half():
    labels = np.array([True, False, True, False, False, True])
    assert evaluation.auroc(np.full(6, 0.3), labels) == 0.5
    assert evaluation.auroc(np.where(labels, 0.01, 0.9), labels) == 0.0  # exactly backwards
    precision, recall = evaluation.precision_recall(np.full(6, 0.3), labels, 0.5)  # flags nothing
    assert math.isnan(precision) and recall == 0.0


class ReadRecorder(torch.nn.Module):
    """An unmasking stub sure of token 1 everywhere; records what it read."""

    def __init__(self):
        super().__init__()
        self.inputs = []

    def forward(self, idx):
        self.inputs.append(idx.clone())
        logits = torch.full((*idx.shape, V), -9.0)
        logits[..., 1] = 9.0
        return logits, None


def test_the_rereading_masks_each_position_exactly_once_a_share_at_a_time():
    u = ReadRecorder()
    tokens = torch.tensor([[1, 2, 1, 3, 1, 1, 4, 1, 0, 1]] * 3)
    scores = evaluation.reread_scores(u, tokens, 0.3, BASE, BASE, torch.Generator().manual_seed(0), batch_size=2)
    assert len(u.inputs) == 2 * 4  # ceil(1 / 0.3) = 4 passes for each of the 2 batches
    masks = [x == BASE for x in u.inputs]
    for batch in (masks[:4], masks[4:]):
        assert torch.equal(sum(m.long() for m in batch), torch.ones_like(batch[0], dtype=torch.long))  # once each
        assert all(m.sum(dim=1).le(3).all() for m in batch)
    assert torch.allclose(scores[tokens == 1], torch.tensor(0.0), atol=1e-6)  # the sure token: nothing wrong
    assert (scores[tokens != 1] > 0.99).all()


def test_detection_row_scores_texts_and_characters():
    real, generated = torch.full((4, 6), 0.001), torch.full((4, 6), 0.5)
    real[0, 0] = 0.9  # one real character looks wrong
    d = evaluation.detection_row('s', real, generated, [0.005, 0.95])
    assert d['auroc_text'] == 1.0 and d['auroc_char'] == pytest.approx((23 + 0.0) / 24)
    assert d['real_above'] == {'0.005': pytest.approx(1 / 24), '0.95': 0.0}
    assert d['mean_generated'] == pytest.approx(0.5)


# -----------------------------------------------------------------------------
# rows and sweeps

def test_rows_parse_literals_fill_defaults_and_name_rows():
    rows = evaluation.parse_rows("mode=validation; name=fast,mode=random,diffusion_iterations=10,temperature=0.8;"
                            "mode=mixed,remasker=r.pt,remasking_schedule=exponential")
    assert [r['mode'] for r in rows] == ['validation', 'random', 'mixed']
    assert rows[0]['name'] == 'validation'
    assert rows[1]['name'] == 'fast' and rows[1]['diffusion_iterations'] == 10 and rows[1]['temperature'] == 0.8
    assert rows[1]['remasker'] is None and rows[1]['end_ratio'] == 0.1
    assert rows[2]['threshold'] == sample.MIXED_DEFAULT_THRESHOLD  # as sample.py's mixed mode
    assert rows[2]['remasking_schedule'] == 'exponential' and rows[2]['name'] == 'mixed-r-30'


def test_the_default_rows_parse_and_compare_like_with_like():
    rows = {row['name']: row for row in evaluation.parse_rows(evaluation._DEFAULT_ROWS)}
    evaluation.check_rows(list(rows.values()))
    assert list(rows)[0] == 'validation'
    guide = [row for name, row in rows.items() if name.startswith('guide ')]
    assert guide and all(row[k] == v for row in guide for k, v in sample.GUIDE_RULE.items())
    for name, row in rows.items():  # every other row takes the defaults, the LLaDA row and self-correction apart
        if row['mode'] != 'validation' and not name.startswith('guide ') and 'LLaDA' not in name:
            assert all(row[k] == evaluation.GENERATE_DEFAULTS[k]
                       for k in sample.GUIDE_RULE if k != 'correction_passes'), name
            plain = 'plain' in name or name.startswith('fill-once')  # the field's baselines are plain
            assert (row['correction_passes'] == 0) == plain or 'prism-correction' in name, name
    assert rows['fill-once-conf-59']['mode'] == rows['fill-once-conf-59 LLaDA']['mode'] == 'fill_once_confidence'
    assert rows['fill-once-conf-59 LLaDA']['selection_temperature'] == 0


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
        evaluation.parse_rows(text)


def test_sweeps_keep_validation_once_and_repeat_the_rows_they_vary():
    rows = evaluation.parse_rows('mode=validation;name=r,mode=random;name=t,mode=threshold,threshold=0.1,remasker=x.pt')
    swept = evaluation.expand_sweep(rows, 'iterations', [5, 10])
    assert [r['name'] for r in swept] == ['validation', 'r T=5', 'r T=10', 't T=5', 't T=10']
    assert [r['diffusion_iterations'] for r in swept[1:]] == [5, 10, 5, 10]
    assert [r['family'] for r in swept] == ['validation', 'r', 'r', 't', 't']
    swept = evaluation.expand_sweep(rows, 'threshold', evaluation.parse_sweep_values('threshold', '0.01,0.05'))
    assert [(r['name'], r['threshold']) for r in swept] == [('validation', None), ('t th=0.01', 0.01),
                                                             ('t th=0.05', 0.05)]
    assert evaluation.parse_sweep_values('iterations', '') == [5, 10, 20, 30, 50, 100]
    assert evaluation.expand_sweep(rows, '', None) is rows
    with pytest.raises(ValueError, match='needs threshold-mode rows'):
        evaluation.expand_sweep(rows[:2], 'threshold', [0.1])
    with pytest.raises(ValueError, match="unknown sweep 'bogus'"):
        evaluation.parse_sweep_values('bogus', '')


def test_importing_eval_runs_nothing(import_fresh):
    assert import_fresh('eval.py', '--bogus=1') == ('', '')


# -----------------------------------------------------------------------------
# likelihood

class Knower(torch.nn.Module):
    """An unmasking stub that puts logit `sure` on the true token at every position (it knows the text)
    and 0 elsewhere; sure=0 is uniform."""

    def __init__(self, text, sure):
        super().__init__()
        self.text, self.sure, self.inputs = text, sure, []

    def forward(self, idx):
        self.inputs.append(idx.clone())
        logits = torch.zeros(*idx.shape, V)
        logits.scatter_(-1, self.text[:idx.size(0), :, None], self.sure)
        return logits, None


def test_nelbo_of_a_model_that_knows_the_text_is_zero_and_of_a_uniform_one_log2_base():
    text = torch.randint(0, BASE, (6, 40), generator=torch.Generator().manual_seed(0))
    task = train.Task(base_vocab_size=BASE, mask_token_id=BASE, wrong_token_id=BASE + 1)
    g = torch.Generator().manual_seed(1)
    assert evaluation.nelbo_bits(Knower(text, 60.0), text, task, g, 4, 6) == pytest.approx([0.0] * 6, abs=1e-6)
    uniform = Knower(text, 0.0)
    assert evaluation.nelbo_bits(uniform, text, task, g, 4, 4) == pytest.approx([math.log2(BASE)] * 6)
    # 4 strata of t: the counts of [MASK]s fall one in each quarter of 1..40, for each of the 6 rows
    masked = torch.cat([(x == BASE).sum(dim=1) for x in uniform.inputs]).view(4, 6)
    for j in range(4):
        assert ((masked[j] > 10 * j) & (masked[j] <= 10 * (j + 1))).all(), masked


def test_nelbo_weighs_each_sequence_by_its_own_masked_mean():
    # a model right at the even positions and uniform at the odd ones: every masked set of any size
    # has about half its positions wrong, so the bound is about log2(BASE) / 2 whatever the count
    text = torch.randint(0, BASE, (64, 50), generator=torch.Generator().manual_seed(0))
    half = Knower(text, 60.0)
    half.text = text
    odd = torch.arange(50) % 2 == 1

    def forward(idx):
        logits = torch.zeros(*idx.shape, V)
        logits.scatter_(-1, text[:idx.size(0), :, None], 60.0)
        return torch.where(odd[None, :, None], 0.0, logits), None
    half.forward = forward
    task = train.Task(base_vocab_size=BASE, mask_token_id=BASE, wrong_token_id=BASE + 1)
    bits = evaluation.nelbo_bits(half, text, task, torch.Generator().manual_seed(2), 8, 64)
    assert abs(bits.mean() - math.log2(BASE) / 2) < 0.05


def test_ratio_ci_is_the_ratio_of_means_and_shrinks_with_paired_samples():
    a = np.array([2.0, 2.2, 2.4, 2.6])
    r, ci = evaluation.ratio_ci(a, a / 1.1)
    assert r == pytest.approx(1.1) and ci == pytest.approx(0.0, abs=1e-9)  # perfectly paired: no spread
    r, ci = evaluation.ratio_ci(a, a[::-1] / 1.1)
    assert r == pytest.approx(1.1) and ci > 0.05


# -----------------------------------------------------------------------------
# the script, on tiny checkpoints and a tiny corpus

CHARS = list("\n !',.?abcdefghijklmnopqrstuvwxyz")
TRAIN_TEXT = "the cat sat on the mat. o'er the hill, the dog ran!\nwho is there? the king.\n" * 40
VAL_TEXT = "the dog sat on the hill. who ran? the cat is king.\n" * 20


def tiny_models(folder):
    """folder/checkpoints with tiny models under the shipped names (block 64), and folder/data with
    train.bin and val.bin of a tiny corpus: eval.py's and bench.py's world in small."""
    ck, data = folder / 'checkpoints', folder / 'data'
    ck.mkdir()
    data.mkdir()
    for name, kind, seed, extra in (('ckpt_unmasking.pt', 'unmasking', 0, {}),
                                    ('ckpt_remasking_naive_4400.pt', 'remasking', 1, {}),
                                    ('ckpt_remasking_prism.pt', 'remasking', 2, {}),
                                    ('ckpt_fill_and_judge.pt', 'fill_and_judge', 5, {}),
                                    ('ckpt_judge.pt', 'autoregressive', 3, {'attention_type': 'causal'}),
                                    ('wide_remasker.pt', 'remasking', 4, {'n_embd': 32})):
        tiny_checkpoint(ck / name, kind, seed, CHARS, block_size=64, **extra)
    stoi = {c: i for i, c in enumerate(CHARS)}
    for split, text in (('train', TRAIN_TEXT), ('val', VAL_TEXT)):
        np.array([stoi[c] for c in text], dtype=np.uint16).tofile(data / f'{split}.bin')
    return folder


@pytest.fixture(scope='module')
def workdir(tmp_path_factory):
    return tiny_models(tmp_path_factory.mktemp('eval'))


@pytest.fixture
def eval_main(workdir, run_script):
    """`python eval.py *args` in workdir, run in this process: (exit code, stdout, stderr)."""
    return lambda *args: run_script('eval.py', *args, cwd=workdir)


SMALL = ['--data_dir=data', '--num_samples=4', '--sequence_length=16', '--batch_size=2', '--device=cpu']
ROWS = ('mode=validation;name=random,mode=random,diffusion_iterations=4;'
        'name=schedule,mode=schedule,diffusion_iterations=4,remasker=ckpt_remasking_naive_4400.pt;'
        'name=threshold,mode=threshold,threshold=0.5,diffusion_iterations=4,remasker=ckpt_remasking_prism.pt;'
        'name=mixed,mode=mixed,threshold=0.01,diffusion_iterations=4,remasker=ckpt_remasking_prism.pt')


def last_json(stdout):
    return json.loads(stdout.splitlines()[-1])


def test_quality_benchmark_end_to_end(eval_main, tmp_path):
    code, out, err = eval_main(*SMALL, f'--rows={ROWS}', f'--out_json={tmp_path / "q.json"}',
                               f'--out_csv={tmp_path / "q.csv"}', '--show_chars=10')
    assert code == 0, err
    result = last_json(out)
    assert result['what'] == 'quality' and result['num_samples'] == 4 and result['sequence_length'] == 16
    names = ['validation', 'random', 'schedule', 'threshold', 'mixed']
    assert [r['name'] for r in result['rows']] == names
    for r in result['rows']:
        m = r['metrics']
        assert math.isfinite(m['bpc']['mean']) and m['bpc']['mean'] > 0
        assert 0 <= m['entropy']['mean'] <= math.log2(len(CHARS))
        assert r['seconds_per_sample'] >= 0 and r['hardware'].startswith('CPU')
        assert len(r['first_sample']) == 10
        assert r['name'] in out
    by_name = {r['name']: r['metrics'] for r in result['rows']}
    assert by_name['validation']['passes']['mean'] == 0
    assert by_name['validation']['corpus_word_share']['mean'] > 0.5  # real words, cut at the window's ends
    assert by_name['random']['passes']['mean'] == 4  # 4 unmasker passes, no remasker
    assert by_name['schedule']['fills']['mean'] == 4 and by_name['schedule']['passes']['mean'] == 7
    assert by_name['mixed']['passes']['mean'] == 7
    assert 2 <= by_name['threshold']['passes']['mean'] <= 7
    assert 1 <= by_name['threshold']['fills']['mean'] <= 4
    # progress on stderr as each row starts and ends: rows done of rows, elapsed, the time left
    assert 'row 1/5 validation ...' in err
    assert re.search(r'row 3/5 schedule: bpc [\d.]+; \d+s elapsed, about \d+s left', err)
    assert re.search(r'row 5/5 mixed: bpc [\d.]+; \d+s elapsed, about 0s left', err)
    assert json.loads((tmp_path / 'q.json').read_text()) == result
    with open(tmp_path / 'q.csv', newline='') as f:
        lines = list(csv.DictReader(f))
    assert [line['name'] for line in lines] == names
    assert float(lines[1]['bpc_mean']) == pytest.approx(by_name['random']['bpc']['mean'])


def test_same_seed_same_numbers_other_seed_other_samples(eval_main):
    args = [*SMALL, '--rows=name=r,mode=random,diffusion_iterations=3']
    runs = [eval_main(*args), eval_main(*args), eval_main(*args, '--seed=7')]
    assert [code for code, _, _ in runs] == [0, 0, 0]
    a, b, c = (last_json(out)['rows'][0] for _, out, _ in runs)
    assert a['metrics'] == b['metrics'] and a['first_sample'] == b['first_sample']
    assert a['first_sample'] != c['first_sample']


def test_iterations_sweep_expands_the_rows(eval_main):
    code, out, err = eval_main(*SMALL, '--rows=mode=validation;name=r,mode=random', '--sweep=iterations',
                               '--sweep_values=2,3')
    assert code == 0, err
    rows = last_json(out)['rows']
    assert [(r['name'], r['family'], r['metrics']['passes']['mean']) for r in rows] == \
        [('validation', 'validation', 0), ('r T=2', 'r', 2), ('r T=3', 'r', 3)]


def test_plot_writes_a_png(eval_main, tmp_path):
    code, out, err = eval_main(*SMALL, '--rows=mode=validation;name=r,mode=random', '--sweep=iterations',
                               '--sweep_values=2,3', f'--plot={tmp_path / "p.png"}')
    assert code == 0, err
    assert (tmp_path / 'p.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_plot_without_matplotlib_is_one_error_line_before_any_work(eval_main, monkeypatch, tmp_path):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec',
                        lambda name, *a: None if name == 'matplotlib' else find_spec(name, *a))
    code, out, err = eval_main(*SMALL, '--rows=mode=validation', f'--plot={tmp_path / "p.png"}')
    assert code == 1 and out == '' and not (tmp_path / 'p.png').exists()
    assert err.strip().splitlines() == [f"error: plot='{tmp_path / 'p.png'}' needs matplotlib, which is not "
                                        f"installed: pip install matplotlib, or leave plot unset"]


def test_confidence_mode_is_passed_to_generate(eval_main):
    code, out, err = eval_main(*SMALL, '--rows=name=c,mode=confidence,diffusion_iterations=3')
    assert code == 0, err
    m = last_json(out)['rows'][0]['metrics']
    assert m['passes']['mean'] == m['fills']['mean'] == 3


def test_remasker_benchmark_runs_trains_corruptions(eval_main):
    code, out, err = eval_main('--benchmark=remasker', '--data_dir=data', '--num_sequences=4', '--sequence_length=16',
                               '--device=cpu')
    assert code == 0, err
    result = last_json(out)
    assert result['what'] == 'remasker' and len(result['results']) == 4  # 2 remaskers x 2 corruptions
    samplers = [d['sampler'] for d in result['detection']]  # 2 samplers x (2 remaskers + the re-reading)
    assert samplers == ['python sample.py'] * 3 + ['fill_once_confidence'] * 3
    assert all(0 <= d['auroc_text'] <= 1 and set(d['real_above']) == {'0.003', '0.005', '0.01', '0.05', '0.5'}
               for d in result['detection'])
    assert 'how well each score tells them apart' in out
    assert result['num_sequences'] == 4  # a calibration loop once overwrote the count, and later remaskers ran short
    # each remasker is measured on the same text whatever came before it
    code, out, err = eval_main('--benchmark=remasker', '--data_dir=data', '--num_sequences=4', '--sequence_length=16',
                               '--device=cpu', '--remaskers=ckpt_fill_and_judge.pt,ckpt_remasking_naive_4400.pt')
    swapped = last_json(out)
    assert swapped['clean'][::-1] == result['clean'] and swapped['num_sequences'] == 4
    for r in result['results']:
        assert r['positions'] == 4 * 16 and 0 < r['wrong_share'] < 1
    # and on the held-out text as it is: characters above each threshold, and how often none is
    assert len(result['clean']) == 2
    for c in result['clean']:
        counts = [a['positions_above'] for a in c['at_threshold'].values()]  # thresholds ascending
        assert all(0 <= b <= a <= 16 for a, b in zip(counts, counts[1:]))
        assert all(0 <= a['sequences_with_none'] <= 1 for a in c['at_threshold'].values())
        at = c['at_threshold']['0.5']
        assert (at['positions_above'] == 0) == (at['sequences_with_none'] == 1)


def test_likelihood_benchmark_end_to_end(eval_main):
    code, out, err = eval_main('--benchmark=likelihood', '--data_dir=data', '--sequence_length=16', '--mask_ratios=2',
                               '--device=cpu')
    assert code == 0, err
    result = last_json(out)
    assert result['what'] == 'likelihood' and result['num_sequences'] == len(VAL_TEXT) // 16
    n, j, r = (result[k]['mean'] for k in ('nelbo_bits', 'judge_bits', 'ratio'))
    assert n > 0 and j > 0 and r == pytest.approx(n / j)
    assert 'NELBO' in out


def test_infill_benchmark_fills_only_the_span_and_scores_it(eval_main, monkeypatch):
    seen = []
    generate = sample.generate

    @functools.wraps(generate)  # eval.py reads generate()'s defaults from its signature
    def spy(*args, fixed=None, **kw):
        tokens, info = generate(*args, fixed=fixed, **kw)
        seen.append((fixed.clone(), tokens.clone()))
        return tokens, info
    monkeypatch.setattr(sample, 'generate', spy)
    rows = 'name=original,mode=validation;name=fo,mode=fill_once,diffusion_iterations=4'
    code, out, err = eval_main('--benchmark=infill', '--data_dir=data', '--sequence_length=24', '--num_samples=4',
                               '--span_lengths=2,8', f'--infill_rows={rows}', '--device=cpu')
    assert code == 0, err
    result = last_json(out)
    assert [(r['name'], r['span']) for r in result['results']] == [('original', 2), ('fo', 2), ('original', 8),
                                                                   ('fo', 8)]
    for fixed, tokens in seen:
        hole = fixed[0] < 0
        assert hole.sum() in (2, 8) and hole.nonzero().flatten().tolist() == list(range(int(12 - hole.sum() // 2),
                                                                                     int(12 + hole.sum() // 2)))
        assert torch.equal(tokens[:, ~hole], fixed[:, ~hole])  # the text around the span is kept
    assert all(r['span_bits']['mean'] > 0 for r in result['results'])
    assert result['results'][1]['passes']['mean'] == 4 and result['results'][0]['passes']['mean'] == 0


def test_bad_input_in_a_real_process_is_one_error_line_and_exit_code_1(workdir):
    res = subprocess.run([sys.executable, os.path.join(ROOT, 'eval.py'), *SMALL, '--rows=mode=bogus'], cwd=workdir,
                         capture_output=True, text=True, timeout=300)
    assert_error_line(res.returncode, res.stdout, res.stderr, "unknown mode 'bogus'")


BAD_INPUTS = [
    (['--rows=mode=bogus'], "unknown mode 'bogus'"),
    (['--rows=mode=schedule,remasker=nope.pt'], 'checkpoints/nope.pt not found'),
    (['--rows=name=a,mode=random;name=a,mode=random'], "names must differ, 'a' used more than once"),
    (['--rows=mode=schedule,remasker=wide_remasker.pt'], 'incompatible: n_embd 16 vs 32'),
    (['--rows=mode=schedule,remasker=ckpt_judge.pt'],
     'remasker=ckpt_judge.pt must name a remasking or fill_and_judge model'),
    (['--rows=mode=random', '--judge_name=ckpt_unmasking.pt'], 'judge_name must name an autoregressive model'),
    (['--rows=mode=random,diffusion_iterations=0'], "row 'random-0': diffusion_iterations must be"),
    (['--rows=mode=random', '--sequence_length=100'], "exceeds the models' block_size 64"),
    (['--rows=mode=random', '--data_dir=nowhere'], 'nowhere/train.bin not found'),
    (['--rows=mode=random', '--sweep=threshold'], 'needs threshold-mode rows'),
    (['--rows=mode=random', '--out_json=no/such/dir/x.json'], 'folder no/such/dir does not exist'),
    (['--benchmark=fastest'], "unknown benchmark 'fastest'"),
    (['--benchmark=speed'], 'the speed benchmark is bench.py'),
    (['--num_samples=1.5'], '--num_samples expects int'),
    (['--sweep=iterations', '--sweep_values=2.5', '--rows=mode=random'], 'diffusion_iterations must be an integer'),
    (['--benchmark=remasker', '--remaskers=ckpt_judge.pt'], 'remaskers must name a remasking or fill_and_judge model'),
    (['--benchmark=likelihood', '--num_sequences=1000'], 'num_sequences must lie in [1, 63]'),
    (['--benchmark=likelihood', '--mask_ratios=0'], 'mask_ratios must be an integer of at least 1'),
    (['--rows=mode=fill_once,end_ratio=0.0'], 'fill-once mode keeps L/T positions a pass'),
    (['--benchmark=infill', '--span_lengths=15'], 'span_lengths must be integers from 1 to sequence_length - 2'),
    (['--benchmark=infill', '--span_lengths=2', '--infill_rows=mode=bogus'], "unknown mode 'bogus'"),
]


@pytest.mark.parametrize('args, message', BAD_INPUTS)
def test_every_bad_input_is_one_error_line_and_exit_code_1(eval_main, args, message):
    assert_error_line(*eval_main(*SMALL, *args), message)


@pytest.mark.parametrize('preset', sorted(f for f in os.listdir(os.path.join(ROOT, 'config')) if f.startswith('eval_')))
def test_eval_presets_name_only_shipped_remaskers_and_known_rows(preset):
    knobs = {}
    exec(open(os.path.join(ROOT, 'config', preset)).read(), knobs)
    rows = evaluation.parse_rows(knobs['rows'])
    if knobs.get('sweep'):
        rows = evaluation.expand_sweep(rows, knobs['sweep'],
                                       evaluation.parse_sweep_values(knobs['sweep'], knobs['sweep_values']))
    assert len(rows) > 1 and rows[0]['mode'] == 'validation'
    for row in rows:
        assert row['remasker'] is None or os.path.isfile(os.path.join(ROOT, 'checkpoints', row['remasker']))


# -----------------------------------------------------------------------------
# text longer than a block

def test_the_judge_scores_long_text_once_a_token_with_half_a_block_before_it():
    class Causal(torch.nn.Module):  # logits from the previous token alone: its score does not depend on the window
        def forward(self, idx):
            return torch.nn.functional.one_hot(idx, V).float() * 3.0, None
    tokens = torch.randint(0, BASE, (2, 50), generator=torch.Generator().manual_seed(0))
    whole = evaluation.judge_bits(Causal(), tokens, BASE, 2)
    assert torch.allclose(evaluation.judge_bits_long(Causal(), tokens, BASE, 16, 2), whole)
    assert torch.allclose(evaluation.judge_bits_long(Causal(), tokens[:, :16], BASE, 16, 2), whole[:, :15])


def test_seam_regions_are_the_starts_and_middles_of_the_windows():
    plan = sample.window_lengths(300, 100, 20)  # (0, 100), (20, 80), (20, 80), (20, 40)
    seams, middles = evaluation.seam_regions(plan, 8)
    assert [(r.start, r.stop) for r in seams] == [(92, 108), (172, 188), (252, 268)]
    assert [(r.start, r.stop) for r in middles] == [(42, 58), (132, 148), (212, 228), (272, 288)]


def test_long_benchmark_writes_and_scores_text_longer_than_a_block(eval_main):
    code, out, err = eval_main('--benchmark=long', '--data_dir=data', '--device=cpu', '--num_samples=2',
                               '--sequence_length=150', '--contexts=16,32', '--batch_size=2', '--seam=4',
                               '--long_rows=name=f,mode=fill_once_confidence,diffusion_iterations=3')
    assert code == 0, err
    result = last_json(out)
    assert [(r['name'], r['context'], r['windows']) for r in result['results']] == [('f', 16, 3), ('f', 32, 4)]
    assert all(r['new_bits']['mean'] > 0 and r['seam_bits']['mean'] > 0 and r['middle_bits']['mean'] > 0
               for r in result['results'])
    code, out, err = eval_main('--benchmark=long', '--data_dir=data', '--device=cpu', '--sequence_length=64')
    assert code == 1 and 'raise sequence_length above it' in err


@pytest.mark.slow
def test_ctrl_c_in_eval_is_one_line_and_writes_nothing(workdir, tmp_path):
    import signal
    import time as clock
    out_json, log = tmp_path / 'q.json', tmp_path / 'stderr.txt'
    with open(log, 'w') as err_file:
        proc = subprocess.Popen([sys.executable, os.path.join(ROOT, 'eval.py'), '--data_dir=data', '--device=cpu',
                                 '--sequence_length=64', '--num_samples=256', '--batch_size=4',
                                 '--rows=mode=validation;name=slow,mode=fill_once,diffusion_iterations=64',
                                 f'--out_json={out_json}'], cwd=workdir, stdout=subprocess.PIPE, stderr=err_file,
                                text=True, env={**os.environ, 'PYTHONUNBUFFERED': '1'})
        t0 = clock.time()
        while proc.poll() is None and clock.time() - t0 < 120 and 'row 2/2 slow ...' not in log.read_text():
            clock.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    err = log.read_text()
    assert proc.returncode == 130 and 'Traceback' not in err, err
    assert err.strip().splitlines()[-1] == 'interrupted in row 2 of 2: nothing written (the results are written ' \
                                          'when every row is done)'
    assert not out_json.exists() and out == ''
