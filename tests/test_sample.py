"""Behaviour of the generation loop (generate(), its steps and the re-masking modes) against stub
models with known outputs, and of the sample.py script against tiny checkpoints made here."""

import json
import math
import os
import re
import shutil
import subprocess
import sys

import pytest
import torch

import sample  # noqa: E402
from conftest import ROOT, assert_error_line, tiny_checkpoint
from model import GPT, GPTConfig, save_checkpoint  # noqa: E402

BASE, MASK, WRONG, V = 5, 5, 6, 8  # 5 real tokens, [MASK], [WRONG], one padding id
DEFAULT_RULE = {k: getattr(sample, k) for k in sample.GUIDE_RULE}  # the knobs' defaults for what GUIDE_RULE sets
RULES = {'guide': {}, 'defaults': DEFAULT_RULE}  # run() takes the guide's rule unless told


class Recorder(torch.nn.Module):
    """An unmasking stub: logits from a fixed (V,) row at every position; records its inputs."""

    def __init__(self, logits_row=None):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))  # generate() reads the device from parameters
        self.row = torch.zeros(V) if logits_row is None else torch.as_tensor(logits_row, dtype=torch.float32)
        self.inputs = []

    def forward(self, idx):
        self.inputs.append(idx.clone())
        return self.row.expand(*idx.shape, V).clone(), None

    def masked(self, call):
        return self.inputs[call] == MASK  # (B, L) positions that were masked at that iteration


class WrongStub(torch.nn.Module):
    """A remasking stub whose P([WRONG]) at call c is tables[min(c, last)], a (B, L) tensor."""

    def __init__(self, *tables):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))
        self.tables = [torch.as_tensor(t, dtype=torch.float32) for t in tables]
        self.calls = 0

    def forward(self, idx):
        p = self.tables[min(self.calls, len(self.tables) - 1)]
        self.calls += 1
        logits = torch.full((*idx.shape, V), -math.inf)
        logits[..., WRONG] = p.clamp_min(1e-30).log()
        logits[..., 0] = (1 - p).clamp_min(1e-30).log()
        return logits, None


def run(mode, unmasker=None, remasker=None, B=2, L=10, T=5, seed=0, fast=False, **kw):
    """generate() with stub models, by the guide's literal rule (sample.GUIDE_RULE) unless kw says
    otherwise. The stubs' tables are per row of the whole batch, so these tests run the plain
    reference loop (fast=False); the fast path is tied to it further down."""
    unmasker = unmasker or Recorder()
    g = torch.Generator().manual_seed(seed)
    tokens, info = sample.generate(unmasker, remasker, batch_size=B, sequence_length=L, base_vocab_size=BASE,
                                   mask_token_id=MASK, wrong_token_id=WRONG, mode=mode, diffusion_iterations=T,
                                   generator=g, fast=fast, **{**sample.GUIDE_RULE, **kw})
    return tokens, info, unmasker


# -----------------------------------------------------------------------------
# the schedule

@pytest.mark.parametrize('schedule', sample.SCHEDULES)
def test_remask_counts_end_points_and_monotone(schedule):
    L, T = 1024, 30
    counts = sample.remask_counts(L, T, schedule, 1.0, 0.1)
    assert len(counts) == T - 1
    assert counts[-1] == round(L * 0.1)  # end_ratio after the next-to-last iteration
    assert counts[0] == round(L * sample.schedule_ratio(1 / (T - 1), schedule, 1.0, 0.1))
    assert counts[0] < L
    assert all(a >= b for a, b in zip(counts, counts[1:]))
    assert sample.schedule_ratio(0.0, schedule, 0.8, 0.2) == pytest.approx(0.8)
    assert sample.schedule_ratio(1.0, schedule, 0.8, 0.2) == pytest.approx(0.2)


def test_linear_counts_formula_and_exponential_falls_faster():
    L, T = 1000, 11
    linear = sample.remask_counts(L, T, 'linear', 1.0, 0.1)
    assert linear == [round(L * (1 - 0.9 * (i + 1) / 10)) for i in range(10)]
    exponential = sample.remask_counts(L, T, 'exponential', 1.0, 0.1)
    expected = [round(L * (1 - 0.9 * (1 - math.exp(-2 * (i + 1) / 10)) / (1 - math.exp(-2)))) for i in range(10)]
    assert exponential == expected
    assert all(e <= lin for e, lin in zip(exponential, linear))
    assert exponential[4] < linear[4]


def test_one_iteration_remasks_nothing_and_constant_ratio_is_flat():
    assert sample.remask_counts(100, 1, 'linear', 1.0, 0.1) == []
    assert sample.remask_counts(100, 2, 'linear', 1.0, 0.1) == [10]
    assert sample.remask_counts(100, 6, 'exponential', 0.3, 0.3) == [30] * 5


# -----------------------------------------------------------------------------
# the modes

@pytest.mark.parametrize('schedule', sample.SCHEDULES)
def test_random_mode_masks_schedule_count_per_row_for_exactly_T_iterations(schedule):
    B, L, T = 3, 40, 7
    tokens, info, u = run('random', B=B, L=L, T=T, remasking_schedule=schedule)
    counts = sample.remask_counts(L, T, schedule, 1.0, 0.1)
    assert info['iterations'] == T and len(u.inputs) == T
    observed = [u.masked(c).sum(dim=1).tolist() for c in range(T)]
    assert observed == [[L] * B] + [[n] * B for n in counts]
    assert (info['converged_at'] == -1).all()


def test_schedule_mode_remasks_each_rows_top_n_by_its_own_probabilities():
    B, L, T = 2, 8, 3
    p = torch.tensor([[.9, .1, .8, .2, .7, .3, .6, .4],    # row 0: top positions 0, 2, 4, ...
                      [.1, .9, .2, .8, .3, .7, .4, .6]])   # row 1: top positions 1, 3, 5, ...
    tokens, info, u = run('schedule', remasker=WrongStub(p), B=B, L=L, T=T)
    n = sample.remask_counts(L, T, 'linear', 1.0, 0.1)
    for call, count in zip((1, 2), n):
        masked = u.masked(call)
        for row in range(B):
            top = set(p[row].topk(count).indices.tolist())
            assert set(masked[row].nonzero().flatten().tolist()) == top
    assert info['iterations'] == T


def test_threshold_mode_remasks_every_position_above_threshold():
    p = torch.tensor([[.5, .01, .2, .0, .3, .02],
                      [.0, .0, .0, .9, .0, .05]])
    stub = WrongStub(p, torch.zeros(2, 6))  # converges at the second check
    tokens, info, u = run('threshold', remasker=stub, L=6, T=10, threshold=0.1)
    assert u.masked(1).tolist() == (p > 0.1).tolist()
    assert info['iterations'] == 2 and len(u.inputs) == 2  # stopped early: nothing exceeded the threshold
    assert info['converged_at'].tolist() == [2, 2]


def test_threshold_mode_stops_after_first_iteration_when_nothing_exceeds():
    tokens, info, u = run('threshold', remasker=WrongStub(torch.full((2, 10), 0.05)), T=30, threshold=0.1)
    assert info['iterations'] == 1 and len(u.inputs) == 1
    assert info['converged_at'].tolist() == [1, 1]


def test_threshold_mode_leaves_a_converged_row_alone():
    first = torch.tensor([[0.0] * 6, [0.9] * 6])   # row 0 converges after iteration 1
    later = torch.tensor([[0.9] * 6, [0.9] * 6])   # row 0's probabilities rise again: still left alone
    tokens, info, u = run('threshold', remasker=WrongStub(first, later), L=6, T=4, threshold=0.5)
    assert info['iterations'] == 4
    for call in range(1, 4):
        assert not u.masked(call)[0].any()
        assert u.masked(call)[1].all()
    assert info['converged_at'].tolist() == [1, -1]
    assert (tokens < BASE).all()  # the last iteration filled row 1's masks


def test_mixed_mode_enough_candidates_takes_top_n_by_probability():
    L, T = 10, 2  # one re-masking step of round(10 * 0.1) = 1 position; use end_ratio for a bigger N
    p = torch.tensor([[.9, .8, .7, .6, .5, .0, .0, .0, .0, .0],
                      [.0, .0, .0, .0, .0, .5, .6, .7, .8, .9]])
    _, info, u = run('mixed', remasker=WrongStub(p), L=L, T=T, threshold=0.1, end_ratio=0.3)  # N = 3
    assert u.masked(1).nonzero().tolist() == [[0, 0], [0, 1], [0, 2], [1, 7], [1, 8], [1, 9]]
    assert info['iterations'] == T


def test_mixed_mode_few_candidates_takes_all_plus_random_others():
    p = torch.tensor([[.9, .0, .0, .0, .0, .0, .0, .0, .0, .0],
                      [.0, .0, .0, .0, .0, .0, .0, .0, .8, .7]])
    for seed in range(5):
        _, _, u = run('mixed', remasker=WrongStub(p), L=10, T=2, threshold=0.1, end_ratio=0.5, seed=seed)  # N = 5
        masked = u.masked(1)
        assert masked.sum(dim=1).tolist() == [5, 5]
        assert masked[0, 0] and masked[1, 8] and masked[1, 9]


def test_mixed_mode_no_candidates_is_random_with_schedule_count():
    p = torch.full((2, 10), 0.001)
    picks = set()
    for seed in range(8):
        _, _, u = run('mixed', remasker=WrongStub(p), L=10, T=2, threshold=0.1, end_ratio=0.4, seed=seed)  # N = 4
        masked = u.masked(1)
        assert masked.sum(dim=1).tolist() == [4, 4]
        picks.add(tuple(masked[0].nonzero().flatten().tolist()))
    assert len(picks) > 1  # random, not a fixed choice


@pytest.mark.parametrize('mode', ['random', 'schedule', 'mixed'])
def test_fixed_modes_run_exactly_T_iterations_even_when_nothing_is_wrong(mode):
    stub = WrongStub(torch.zeros(2, 10))
    _, info, u = run(mode, remasker=stub, T=9, threshold=0.2 if mode == 'mixed' else None)
    assert info['iterations'] == 9 and len(u.inputs) == 9
    assert stub.calls == (0 if mode == 'random' else 8)  # the remasker is not run after the last iteration


def test_confidence_mode_remasks_the_tokens_sampled_with_the_lowest_probability():
    row = torch.tensor([3.0, 2.0, 1.0, 0.0, -1.0, -9.0, -9.0, -9.0])  # token k is less likely than k-1
    prob = torch.softmax(row[:BASE], dim=0)
    u = Recorder(row)
    tokens, info, _ = run('confidence', unmasker=u, B=3, L=40, T=4, seed=2)  # no remasker needed
    assert info['iterations'] == 4 and len(u.inputs) == 4
    counts = sample.remask_counts(40, 4, 'linear', 1.0, 0.1)
    first = u.inputs[1]  # the state after iteration 1's fill and re-masking
    assert ((first == MASK).sum(dim=1) == counts[0]).all()
    # every kept token was at least as likely as every re-masked one, row by row
    filled = torch.where(first == MASK, -1, first)
    for b in range(3):
        kept = prob[filled[b][filled[b] >= 0]]
        assert kept.numel() == 40 - counts[0] and kept.min() >= prob[-1]  # least likely token: the first to go
    assert (tokens < BASE).all()


def test_confidence_mode_keeps_each_tokens_probability_from_when_it_was_sampled():
    """A kept token is judged by the probability it was sampled with, not by what the model says
    at its position later."""
    class Flip(Recorder):  # sure of token 0 at the even positions on call 0, at the odd ones afterwards
        def forward(self, idx):
            self.inputs.append(idx.clone())
            sure = (torch.arange(idx.size(1)) % 2 == (0 if len(self.inputs) == 1 else 1))[:, None]
            row = torch.zeros(V)
            row[0] = 9.0
            return torch.where(sure, row, torch.zeros(V)).expand(*idx.shape, V).clone(), None
    u = Flip()
    run('confidence', unmasker=u, B=1, L=10, T=3, seed=0)
    n1, n2 = sample.remask_counts(10, 3, 'linear', 1.0, 0.1)  # 6, then 1
    after1 = (u.inputs[1][0] == MASK).nonzero().flatten().tolist()
    assert len(after1) == n1 and set(range(1, 10, 2)) <= set(after1)  # the 5 unsure odd ones, and one even one
    even = [p for p in after1 if p % 2 == 0]
    assert len(even) == 1
    # call 1: the odd positions refill surely, the even one unsurely; kept even positions keep their
    # sure call-0 probability although the model is now unsure there: the unsure refill alone goes
    after2 = (u.inputs[2][0] == MASK).nonzero().flatten().tolist()
    assert after2 == even and n2 == 1


def test_fill_once_mode_fills_each_mask_once_and_keeps_it():
    B, L, T = 3, 40, 7
    u = Recorder()
    tokens, info, _ = run('fill_once', unmasker=u, B=B, L=L, T=T)
    counts = sample.fill_once_counts(L, T)
    assert counts == [round(L * (1 - (i + 1) / T)) for i in range(T - 1)]  # L/T kept a pass
    assert [u.masked(c).sum(dim=1).tolist() for c in range(T)] == [[L] * B] + [[n] * B for n in counts]
    for c in range(1, T):
        before, after = u.inputs[c - 1], u.inputs[c]
        assert (after == MASK).le(before == MASK).all()  # only what was masked before is masked now
        kept = before != MASK
        assert torch.equal(after[kept], before[kept])  # and a kept token is never drawn again
    assert (tokens < BASE).all() and info['iterations'] == T


def test_fill_once_keeps_a_different_random_subset_every_time():
    picks = {tuple(run('fill_once', B=1, L=20, T=4, seed=seed)[2].masked(1)[0].nonzero().flatten().tolist())
             for seed in range(6)}
    assert len(picks) > 1


@pytest.mark.parametrize('mode', ['random', 'mixed'])
def test_random_from_filled_draws_the_random_part_from_the_positions_just_filled(mode):
    B, L, T = 3, 40, 6
    u = Recorder()
    no_candidates = WrongStub(torch.zeros(B, L))  # mixed mode's count is then all random
    run(mode, unmasker=u, remasker=no_candidates, B=B, L=L, T=T, threshold=0.5, random_from='filled')
    counts = sample.remask_counts(L, T, 'linear', 1.0, 0.1)
    assert [u.masked(c).sum(dim=1).tolist() for c in range(T)] == [[L] * B] + [[n] * B for n in counts]
    for c in range(1, T):  # a kept token is never re-masked: only what was just filled is
        before, after = u.inputs[c - 1], u.inputs[c]
        assert (after == MASK).le(before == MASK).all()
        assert torch.equal(after[before != MASK], before[before != MASK])


def test_random_from_filled_still_takes_mixed_candidates_from_everywhere():
    B, L, T = 1, 20, 3
    kw = dict(B=B, L=L, T=T, threshold=0.5, random_from='filled', seed=3)
    first = Recorder()
    run('mixed', unmasker=first, remasker=WrongStub(torch.zeros(B, L)), **kw)
    k = int((first.inputs[1][0] != MASK).nonzero()[0])  # a token kept after iteration 1 ...
    flagged = torch.zeros(B, L)
    flagged[0, k] = 0.9  # ... that the remasker flags after iteration 2
    u = Recorder()
    run('mixed', unmasker=u, remasker=WrongStub(torch.zeros(B, L), flagged), **kw)
    assert not u.masked(1)[0, k] and u.masked(2)[0, k]


@pytest.mark.parametrize('temperature', [1.0, 2.0])
def test_selection_temperature_draws_in_proportion_to_p_to_the_one_over_t(temperature):
    rows = 20000
    p = torch.tensor([0.4, 0.3, 0.2, 0.1]).expand(rows, 4)
    g = torch.Generator().manual_seed(0)
    _, chosen = sample.remask(torch.zeros(rows, 4, dtype=torch.long), 'schedule', p, 1, None, g, mask_token_id=MASK,
                              selection_temperature=temperature)
    share = chosen.double().mean(dim=0)
    expected = p[0].double() ** (1 / temperature) / (p[0].double() ** (1 / temperature)).sum()
    assert chosen.sum(dim=1).eq(1).all()
    assert torch.allclose(share, expected, atol=0.015), (share, expected)  # 4 standard errors


def test_selection_temperature_zero_takes_the_highest_and_draws_nothing():
    p = torch.tensor([[0.1, 0.7, 0.3, 0.9]])
    g = torch.Generator().manual_seed(0)
    state = g.get_state()
    _, chosen = sample.remask(torch.zeros(1, 4, dtype=torch.long), 'schedule', p, 2, None, g, mask_token_id=MASK,
                              selection_temperature=0.0)
    assert chosen.tolist() == [[False, True, False, True]] and torch.equal(g.get_state(), state)


@pytest.mark.parametrize('mode', ['schedule', 'mixed', 'confidence'])
def test_max_remask_kept_zero_never_remasks_a_kept_token(mode):
    B, L, T = 3, 40, 6
    u = Recorder(torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0, -9.0, -9.0, -9.0]))  # tokens of different confidence
    everywhere = WrongStub(torch.rand(B, L, generator=torch.Generator().manual_seed(1)))
    run(mode, unmasker=u, remasker=everywhere, B=B, L=L, T=T, threshold=0.05, max_remask_kept=0.0,
        selection_temperature=1.0)
    counts = sample.remask_counts(L, T, 'linear', 1.0, 0.1)
    assert [u.masked(c).sum(dim=1).tolist() for c in range(T)] == [[L] * B] + [[n] * B for n in counts]
    for c in range(1, T):
        before, after = u.inputs[c - 1], u.inputs[c]
        assert (after == MASK).le(before == MASK).all()  # only what was just filled is re-masked
        assert torch.equal(after[before != MASK], before[before != MASK])


@pytest.mark.parametrize('mode', ['schedule', 'mixed'])
def test_max_remask_kept_binds_every_part_of_the_choice_even_random_picks_from_all(mode):
    B, L, T, cap = 3, 40, 6, 0.05  # at most round(0.05 * 40) = 2 kept tokens re-masked an iteration
    u = Recorder()
    p = torch.rand(B, L, generator=torch.Generator().manual_seed(2)) * 0.004  # no mixed candidate above 0.5
    run(mode, unmasker=u, remasker=WrongStub(p), B=B, L=L, T=T, threshold=0.5, random_from='all',
        max_remask_kept=cap, selection_temperature=1.0)
    for c in range(1, T):
        before, after = u.inputs[c - 1], u.inputs[c]
        kept_remasked = ((before != MASK) & (after == MASK)).sum(dim=1)
        assert (kept_remasked <= round(cap * L)).all(), (c, kept_remasked)


def test_max_remask_kept_takes_the_highest_ranked_kept_tokens_up_to_the_cap():
    x = torch.zeros(1, 8, dtype=torch.long)
    filled = torch.tensor([[True, True, True, True, False, False, False, False]])
    p = torch.tensor([[0.1, 0.2, 0.3, 0.4, 0.9, 0.8, 0.7, 0.6]])  # the kept tokens look the most wrong
    _, uncapped = sample.remask(x, 'schedule', p, 3, None, None, mask_token_id=MASK, filled=filled)
    assert uncapped[0].nonzero().flatten().tolist() == [4, 5, 6]  # the guide's rule: the top 3 anywhere
    _, capped = sample.remask(x, 'schedule', p, 3, None, None, mask_token_id=MASK, filled=filled, kept_cap=1)
    assert capped[0].nonzero().flatten().tolist() == [2, 3, 4]  # one kept token (the likeliest wrong), two filled
    _, none = sample.remask(x, 'mixed', p, 3, 0.05, None, mask_token_id=MASK, filled=filled, kept_cap=0)
    assert none[0].nonzero().flatten().tolist() == [1, 2, 3]


def test_the_guide_rule_preset_holds_the_guide_rule():
    g = {}
    exec(open(os.path.join(ROOT, 'config', 'sample_guide_rule.py')).read(), g)
    assert {k: g[k] for k in sample.GUIDE_RULE} == sample.GUIDE_RULE
    assert DEFAULT_RULE != sample.GUIDE_RULE  # the defaults are measured choices beyond it


@pytest.mark.parametrize('knob, value, message', [
    ('selection_temperature', -1.0, 'selection_temperature must be a finite number >= 0, got -1.0'),
    ('selection_temperature', math.inf, 'selection_temperature must be a finite number >= 0, got inf'),
    ('max_remask_kept', 1.5, 'max_remask_kept must be None (no cap) or a share in [0, 1], got 1.5'),
    ('max_remask_kept', 'x', "max_remask_kept must be None (no cap) or a share in [0, 1], got 'x'"),
])
def test_bad_selection_knobs_are_value_errors(knob, value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        run('schedule', remasker=WrongStub(torch.zeros(2, 10)), **{knob: value})


def test_unknown_random_from_is_a_value_error():
    with pytest.raises(ValueError, match="unknown random_from 'kept'"):
        run('random', random_from='kept')


# -----------------------------------------------------------------------------
# outputs

@pytest.mark.parametrize('mode', sample.MODES)
@pytest.mark.parametrize('temperature', [1.0, 0.0])
def test_no_special_id_is_ever_emitted_even_by_a_model_that_prefers_them(mode, temperature):
    row = torch.full((V,), -5.0)
    row[MASK], row[WRONG], row[V - 1] = 50.0, 60.0, 70.0  # nearly all mass on specials and padding
    u = Recorder(row)
    stub = WrongStub(torch.rand(3, 50))
    tokens, _, _ = run(mode, unmasker=u, remasker=stub, B=3, L=50, T=6, threshold=0.5, temperature=temperature)
    assert tokens.shape == (3, 50)
    assert ((tokens >= 0) & (tokens < BASE)).all()


def test_sampling_follows_the_softmax_and_unmasked_positions_keep_their_token():
    row = torch.tensor([0.0, 1.0, 2.0, -math.inf, -math.inf, 0.0, 0.0, 0.0])
    logits = row.expand(200, 64, V)
    g = torch.Generator().manual_seed(0)
    draws = sample.sample_tokens(logits, BASE, 1.0, g).flatten()
    freq = torch.bincount(draws, minlength=BASE).float() / draws.numel()
    expected = torch.softmax(row[:BASE], dim=0)
    assert torch.allclose(freq, expected, atol=0.01)
    # second iteration: only the masked positions change
    u = Recorder()
    tokens, _, _ = run('random', unmasker=u, B=2, L=20, T=3)
    for call in (1, 2):
        before, after = u.inputs[call - 1], u.inputs[call]
        kept = (before != MASK) & (after != MASK)  # held a token before, and not re-masked since
        assert torch.equal(after[kept], before[kept])
        assert (after[after != MASK] < BASE).all()
    assert ((u.inputs[1] != MASK) & (u.inputs[2] != MASK)).any()  # the check above was not vacuous


def test_same_seed_same_tokens_and_other_seed_differs():
    p = torch.rand(2, 30, generator=torch.Generator().manual_seed(3))
    for mode in sample.MODES:
        a, _, _ = run(mode, remasker=WrongStub(p), L=30, T=6, seed=11, threshold=0.3)
        b, _, _ = run(mode, remasker=WrongStub(p), L=30, T=6, seed=11, threshold=0.3)
        c, _, _ = run(mode, remasker=WrongStub(p), L=30, T=6, seed=12, threshold=0.3)
        assert torch.equal(a, b)
        assert not torch.equal(a, c)


def test_wrong_probability_matches_softmax():
    logits = torch.randn(2, 7, V) * 4
    expected = torch.softmax(logits, dim=-1)[..., WRONG]
    assert torch.allclose(sample.wrong_probability(logits, WRONG), expected, atol=1e-6)


def test_generate_is_repeatable_on_models_loaded_once():
    torch.manual_seed(0)
    cfg = GPTConfig(block_size=32, vocab_size=V, n_layer=1, n_head=2, n_embd=16)
    u, r = GPT(cfg).eval(), GPT(cfg).eval()
    first = run('mixed', unmasker=u, remasker=r, L=32, T=4, seed=5, threshold=0.01)[0]
    second = run('mixed', unmasker=u, remasker=r, L=32, T=4, seed=5, threshold=0.01)[0]
    assert torch.equal(first, second) and (first < BASE).all()


# -----------------------------------------------------------------------------
# the fast path gives the reference loop's tokens

class Counting(GPT):
    """A GPT that records the batch size and whether positions were asked for, per call."""

    def __init__(self, cfg):
        super().__init__(cfg)
        self.calls = []

    def forward(self, idx, targets=None, positions=None):
        self.calls.append((idx.size(0), None if positions is None else positions.size(1)))
        return super().forward(idx, targets, positions)


@pytest.mark.parametrize('rule', RULES)
@pytest.mark.parametrize('mode', sample.MODES)
@pytest.mark.parametrize('temperature', [1.0, 0.0])
def test_fast_path_gives_exactly_the_reference_tokens(mode, temperature, rule):
    torch.manual_seed(0)
    cfg = GPTConfig(block_size=64, vocab_size=V, n_layer=2, n_head=2, n_embd=16)
    u, r = Counting(cfg).eval(), Counting(cfg).eval()
    outs = {}
    for fast in (False, True):
        u.calls.clear()
        outs[fast] = run(mode, unmasker=u, remasker=r, B=5, L=64, T=7, seed=3, threshold=0.13,
                         temperature=temperature, fast=fast, **RULES[rule])[:2]
        if fast and mode != 'threshold':  # logits asked for at the [MASK]s only: all, then the schedule's counts
            assert all(n is not None for _, n in u.calls)  # static shapes, with the defaults' self-correction too
            counts = sample.fill_once_counts(64, 7) if mode in sample.FILL_ONCE else \
                sample.remask_counts(64, 7, 'linear', 1.0, 0.1)
            if rule == 'guide':  # (self-correction's counts: tests/test_steps.py)
                assert [c[1] for c in u.calls] == [64] + counts
    (a, info_a), (b, info_b) = outs[False], outs[True]
    assert torch.equal(a, b)
    assert info_a['iterations'] == info_b['iterations']
    assert torch.equal(info_a['converged_at'], info_b['converged_at'])


class ZeroIsWrong(torch.nn.Module):
    """A remasking stub that judges by content, not by row: P([WRONG]) 0.9 at token 0, else 0.01."""

    def __init__(self):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))
        self.batch_sizes = []

    def forward(self, idx):
        self.batch_sizes.append(idx.size(0))
        p = torch.where(idx == 0, 0.9, 0.01)
        logits = torch.full((*idx.shape, V), -math.inf)
        logits[..., WRONG], logits[..., 1] = p.log(), (1 - p).log()
        return logits, None


def test_threshold_mode_fast_path_runs_no_converged_row():
    u = Recorder(torch.tensor([0.0, 0.0, -math.inf, -math.inf, -math.inf, 0.0, 0.0, 0.0]))  # 0 or 1, evenly
    plain, fast = ZeroIsWrong(), ZeroIsWrong()
    a, info_a, _ = run('threshold', unmasker=u, remasker=plain, B=8, L=3, T=30, seed=1, threshold=0.5)
    b, info_b, _ = run('threshold', unmasker=u, remasker=fast, B=8, L=3, T=30, seed=1, threshold=0.5, fast=True)
    assert torch.equal(a, b) and torch.equal(info_a['converged_at'], info_b['converged_at'])
    assert set(plain.batch_sizes) == {8}  # the reference runs every row every iteration
    # the fast path runs only the rows not converged yet: as many as have converged_at > i
    at = info_b['converged_at']
    assert (at > 0).all() and len(set(at.tolist())) > 1  # rows converged at different iterations
    assert fast.batch_sizes == [int((at > i).sum()) for i in range(len(fast.batch_sizes))]
    assert (a != 0).all()  # converged: no token the remasker calls wrong


# -----------------------------------------------------------------------------
# settings

@pytest.mark.parametrize('intelligent, mixed, threshold, ckpt, expected', [
    (False, False, None, None, ('random', None)),
    (False, False, 0.3, 'r.pt', ('random', None)),
    (True, False, None, 'r.pt', ('schedule', None)),
    (True, False, 0.003, 'r.pt', ('threshold', 0.003)),
    (True, True, None, 'r.pt', ('mixed', 0.01)),
    (True, True, 0.05, 'r.pt', ('mixed', 0.05)),
])
def test_mode_from_the_guides_flags(intelligent, mixed, threshold, ckpt, expected):
    assert sample.resolve_mode(intelligent, mixed, threshold, ckpt) == expected


def test_fill_once_flag_selects_fill_once_mode_and_takes_nothing_else():
    assert sample.resolve_mode(True, False, None, 'r.pt', False, True) == ('fill_once', None)
    assert sample.resolve_mode(False, False, None, None, False, True) == ('fill_once', None)
    assert sample.resolve_mode(True, False, None, 'r.pt', True, True) == ('fill_once_confidence', None)
    for args in [(True, True, None, 'r.pt', False, True), (True, False, 0.1, 'r.pt', False, True),
                 (True, True, None, 'r.pt', True, True)]:
        with pytest.raises(ValueError, match='use_fill_once=True keeps every token it fills'):
            sample.resolve_mode(*args)
    for mode in sample.FILL_ONCE:
        for change in (dict(end_ratio=0.0), dict(start_ratio=0.9), dict(remasking_schedule='exponential')):
            with pytest.raises(ValueError, match='fill-once mode keeps L/T positions a pass'):
                run(mode, **change)


@pytest.mark.parametrize('selection_temperature', [0.0, 3.0])
def test_fill_once_confidence_is_confidence_mode_on_fill_once_counts_with_nothing_kept_remasked(selection_temperature):
    """The low-confidence variant of fill-once: what eval.py's rows of it measured before it was a
    mode of its own (confidence mode, end_ratio 1/T, max_remask_kept 0), token for token."""
    torch.manual_seed(0)
    u = GPT(GPTConfig(block_size=48, vocab_size=V, n_layer=1, n_head=2, n_embd=16)).eval()
    T = 7
    kw = dict(unmasker=u, B=3, L=48, T=T, seed=4, selection_temperature=selection_temperature, fast=True)
    a = run('fill_once_confidence', **kw)[0]
    b = run('confidence', end_ratio=1 / T, max_remask_kept=0.0, **kw)[0]
    assert torch.equal(a, b)


def test_fill_once_confidence_keeps_the_most_confident_of_those_just_filled():
    row = torch.tensor([3.0, 2.0, 1.0, 0.0, -1.0, -9.0, -9.0, -9.0])  # token k is less likely than k-1
    u = Recorder(row)
    B, L, T = 2, 40, 5
    run('fill_once_confidence', unmasker=u, B=B, L=L, T=T, seed=1, selection_temperature=0.0)
    counts = sample.fill_once_counts(L, T)
    assert [u.masked(c).sum(dim=1).tolist() for c in range(T)] == [[L] * B] + [[n] * B for n in counts]
    for c in range(1, T):
        before, after = u.inputs[c - 1], u.inputs[c]
        kept_now = (before == MASK) & (after != MASK)  # kept after this fill
        assert torch.equal(after[before != MASK], before[before != MASK])  # nothing kept is re-drawn
        # token 0 is the likeliest (p 0.64), so the newly filled hold far more 0s than there are
        # positions to keep: the most confident are all 0s, where a random choice keeps others too
        assert kept_now.any() and (after[kept_now] == 0).all()


def test_confidence_flag_selects_confidence_mode_and_rejects_guide_only_settings():
    assert sample.resolve_mode(True, False, None, 'r.pt', True) == ('confidence', None)
    assert sample.resolve_mode(False, False, None, None, True) == ('confidence', None)
    with pytest.raises(ValueError, match='neither use_mixed_remasking=True nor a remasking_confidence_threshold'):
        sample.resolve_mode(True, True, None, 'r.pt', True)
    with pytest.raises(ValueError, match='neither use_mixed_remasking=True nor a remasking_confidence_threshold'):
        sample.resolve_mode(True, False, 0.01, 'r.pt', True)


def test_contradictory_flags_are_errors():
    with pytest.raises(ValueError, match='use_mixed_remasking=True needs use_intelligent_remasking=True'):
        sample.resolve_mode(False, True, None, 'r.pt')
    with pytest.raises(ValueError, match='remasking_checkpoint_name'):
        sample.resolve_mode(True, False, None, None)


@pytest.mark.parametrize('change, message', [
    (dict(mode='greedy'), 'unknown mode'),
    (dict(remasking_schedule='cosine'), 'unknown remasking_schedule'),
    (dict(threshold=0.0), 'strictly between 0 and 1'),
    (dict(threshold=1.0), 'strictly between 0 and 1'),
    (dict(threshold=-0.2), 'strictly between 0 and 1'),
    (dict(mode='threshold', threshold=None), 'strictly between 0 and 1'),
    (dict(start_ratio=1.2), 'start_ratio must lie in'),
    (dict(end_ratio=-0.1), 'end_ratio must lie in'),
    (dict(start_ratio=0.2, end_ratio=0.5), 'must not exceed start_ratio'),
    (dict(diffusion_iterations=0), 'diffusion_iterations must be an integer of at least 1'),
    (dict(sequence_length=0), 'sequence_length must be'),
    (dict(batch_size=0), 'batch_size must be'),
    (dict(temperature=-1.0), 'temperature'),
])
def test_bad_settings_raise_value_errors_naming_the_knob(change, message):
    kw = dict(mode='mixed', threshold=0.1, remasking_schedule='linear', start_ratio=1.0, end_ratio=0.1,
              diffusion_iterations=5, sequence_length=10, batch_size=2)
    kw.update(change)
    mode = kw.pop('mode')
    with pytest.raises(ValueError, match=message):
        run(mode, remasker=WrongStub(torch.zeros(2, 10)), B=kw.pop('batch_size'), L=kw.pop('sequence_length'),
            T=kw.pop('diffusion_iterations'), **kw)


def test_nan_logits_are_an_error():
    row = torch.full((V,), float('nan'))
    with pytest.raises(ValueError, match='NaN'):
        run('random', unmasker=Recorder(row))


class OneNaN(torch.nn.Module):
    """Wraps a model; on call `at` its logits get a NaN at one vocabulary id along the last row."""

    def __init__(self, model, at, vocab_id):
        super().__init__()
        self.model, self.at, self.vocab_id, self.calls = model, at, vocab_id, 0

    def forward(self, idx):
        logits, _ = self.model(idx)
        if self.calls == self.at:
            logits[-1, :, self.vocab_id] = float('nan')
        self.calls += 1
        return logits, None


@pytest.mark.parametrize('which', ['unmasker', 'remasker'])
@pytest.mark.parametrize('mode', ['schedule', 'mixed'])
def test_a_single_nan_in_either_models_logits_is_an_error(which, mode):
    # a NaN in one logit per position of one row, in the second call: the sampler and P([WRONG]) both
    # carry it to the check that generate() makes once, at the end
    unmasker, remasker = Recorder(), WrongStub(torch.rand(2, 10))
    if which == 'unmasker':
        unmasker = OneNaN(unmasker, 1, BASE - 1)
    else:
        remasker = OneNaN(remasker, 1, V - 1)  # the padding id: only the log-normaliser reads it
    with pytest.raises(ValueError, match='NaN'):
        run(mode, unmasker=unmasker, remasker=remasker, threshold=0.5)


# -----------------------------------------------------------------------------
# given tokens (a prompt, a template): fixed means fixed

def given(B, L, seed=0):
    """(B, L) fixed tokens, -1 where to generate: each row its own prompt length and one hole of its own."""
    g = torch.Generator().manual_seed(seed)
    fixed = torch.randint(0, BASE, (B, L), generator=g)
    for b in range(B):
        fixed[b, 3 + b:] = -1  # a prompt of 3 + b tokens ...
        fixed[b, L - 4 - b:] = torch.randint(0, BASE, (4 + b,), generator=g)  # ... and a suffix of 4 + b
    return fixed


@pytest.mark.parametrize('fast', [False, True])
@pytest.mark.parametrize('mode', sample.MODES)
def test_given_tokens_are_never_changed_or_remasked_in_any_mode(mode, fast):
    B, L, T = 3, 24, 6
    fixed = given(B, L)
    keep = fixed >= 0
    wrong_everywhere = WrongStub(torch.full((B, L), 0.99))  # every position looks wrong to the remasker
    u = Recorder()
    tokens, info, _ = run(mode, unmasker=u, remasker=wrong_everywhere, B=B, L=L, T=T, threshold=0.5, fast=fast,
                          fixed=fixed)
    for x in u.inputs:  # what the unmasker saw, every call (no row converges): the given tokens
        assert x.size(0) == B and torch.equal(x[keep], fixed[keep])
    assert torch.equal(tokens[keep], fixed[keep]) and (tokens < BASE).all()


def test_schedule_counts_apply_to_the_positions_to_generate():
    B, L, T = 2, 30, 5
    fixed = torch.full((B, L), -1)
    fixed[:, :10] = 1  # a prompt of 10: 20 to generate in each row
    u = Recorder()
    run('random', unmasker=u, B=B, L=L, T=T, fixed=fixed)
    counts = sample.remask_counts(20, T, 'linear', 1.0, 0.1)
    assert [u.masked(c).sum(dim=1).tolist() for c in range(T)] == [[20] * B] + [[n] * B for n in counts]
    u = Recorder()
    run('fill_once', unmasker=u, B=B, L=L, T=T, fixed=given(B, L))  # rows with 23 and 21 to generate
    assert [u.masked(c).sum(dim=1).tolist() for c in range(T)] == \
        [[23, 21]] + [[a, b] for a, b in zip(sample.fill_once_counts(23, T), sample.fill_once_counts(21, T))]


def test_threshold_and_statistics_look_at_the_positions_to_generate_only():
    B, L = 2, 12
    fixed = torch.full((B, L), -1)
    fixed[:, :4] = 2
    p = torch.where(fixed >= 0, 0.99, 0.2)  # sure the given tokens are wrong, and not the others
    lines = []
    _, info, u = run('threshold', remasker=WrongStub(p, torch.zeros(B, L)), B=B, L=L, T=10, threshold=0.5,
                     fixed=fixed, log=lines.append)
    assert info['converged_at'].tolist() == [1, 1] and len(u.inputs) == 1  # nothing generated was above it
    assert 'max 2.00e-01' in lines[0] and 'min 2.00e-01' in lines[0]


@pytest.mark.parametrize('rule', RULES)
def test_fast_path_gives_the_reference_tokens_with_given_tokens_per_row(rule):
    torch.manual_seed(0)
    cfg = GPTConfig(block_size=32, vocab_size=V, n_layer=1, n_head=2, n_embd=16)
    u, r = GPT(cfg).eval(), GPT(cfg).eval()
    fixed = given(4, 32)
    kw = dict(unmasker=u, remasker=r, B=4, L=32, T=6, seed=2, threshold=0.2, fixed=fixed, max_remask_kept=0.1,
              **{k: v for k, v in RULES[rule].items() if k != 'max_remask_kept'})  # a cap of a count per row
    for mode in sample.MODES:
        a = run(mode, **kw)[0]
        b = run(mode, fast=True, **kw)[0]
        assert torch.equal(a, b), mode
        assert (a[fixed >= 0] == fixed[fixed >= 0]).all(), mode
    same = torch.full((4, 32), -1)
    same[:, :5] = 3  # one prompt for every row: the fast path's static shapes
    a = run('mixed', unmasker=u, remasker=r, B=4, L=32, T=6, seed=2, threshold=0.2, fixed=same)[0]
    assert torch.equal(a, run('mixed', unmasker=u, remasker=r, B=4, L=32, T=6, seed=2, threshold=0.2, fixed=same,
                              fast=True)[0])


@pytest.mark.parametrize('change, message', [
    (dict(fixed=torch.full((2, 9), -1)), 'fixed must be'),
    (dict(fixed=torch.full((2, 10), BASE)), 'real token ids'),
    (dict(fixed=torch.zeros(2, 10, dtype=torch.long)), 'every row needs a position to generate'),
])
def test_bad_fixed_tokens_are_value_errors(change, message):
    with pytest.raises(ValueError, match=message):
        run('random', **change)


@pytest.mark.parametrize('template, pieces', [
    ('be, or {20}, that', ['be, or ', 20, ', that']),
    ('{}tail', [None, 'tail']),
    ('a {{b}} {3}', ['a {b} ', 3]),
    ('{1}{2}', [1, 2]),
    ('}}{{{5}}}', ['}{', 5, '}']),
])
def test_template_pieces(template, pieces):
    assert sample.template_pieces(template) == pieces


@pytest.mark.parametrize('template, message', [
    ('no hole', 'has no hole'), ('a {{b}}', 'has no hole'), ('a {x} b', 'opens no hole'), ('a {0} b', 'opens no hole'),
    ('a {3', 'opens no hole'), ('a } b {3}', "lone '}'"), ('{}{}', 'may stand once'),
])
def test_bad_templates(template, message):
    with pytest.raises(ValueError, match=message):
        sample.template_pieces(template)


def test_given_tokens_of_a_prompt_and_a_template():
    from model import CharTokenizer
    tok = CharTokenizer('abc ')
    assert sample.given_tokens(tok, 6, start='ab') == [0, 1, -1, -1, -1, -1]
    assert sample.given_tokens(tok, 10, infill='a{2}b{}c') == [0, -1, -1, 1, -1, -1, -1, -1, -1, 2]
    assert sample.given_tokens(tok, 999, infill='a{2}b') == [0, -1, -1, 1]  # no {}: the template is the sample
    with pytest.raises(ValueError, match='leaves nothing of sequence_length 2 to generate'):
        sample.given_tokens(tok, 2, start='ab')
    with pytest.raises(ValueError, match='leaves nothing of sequence_length 4 for its {} hole'):
        sample.given_tokens(tok, 4, infill='ab{2}{}')
    with pytest.raises(ValueError, match="infill: text has characters outside the vocabulary: 'xz'"):
        sample.given_tokens(tok, 10, infill='xaz{3}')
    with pytest.raises(ValueError, match='not both'):
        sample.given_tokens(tok, 10, start='a', infill='a{3}')


# -----------------------------------------------------------------------------
# the steps, on their own

def test_top_n_marks_each_rows_n_highest_for_one_count_or_a_count_per_row():
    scores = torch.tensor([[.1, .9, .5, .7], [.8, .2, .6, .4], [.3, .1, .2, .4]])
    assert sample.top_n(scores, 2).tolist() == [[False, True, False, True], [True, False, True, False],
                                                 [True, False, False, True]]
    per_row = sample.top_n(scores, torch.tensor([1, 3, 0]))
    assert per_row.tolist() == [[False, True, False, False], [True, False, True, True], [False] * 4]
    assert sample.top_n(scores, torch.tensor([0, 0, 0])).sum() == 0


def test_fill_samples_only_the_masks_and_returns_what_it_sampled():
    row = torch.tensor([-9.0, 9.0, -9.0, -9.0, -9.0, 0.0, 0.0, 0.0])  # always token 1
    x = torch.tensor([[0, MASK, 2, MASK], [MASK, 3, 3, 4]])
    g = torch.Generator().manual_seed(0)
    filled, tokens, logits = sample.fill(Recorder(row), x, mask_token_id=MASK, base_vocab_size=BASE, temperature=1.0,
                                         generator=g)
    assert filled.tolist() == [[0, 1, 2, 1], [1, 3, 3, 4]] and tokens.shape == (2, 4) and logits.shape == (2, 4, V)
    positions = sample.mask_positions(torch.tensor([[MASK, 0, MASK], [3, MASK, MASK]]), MASK, 2)
    assert positions.tolist() == [[0, 2], [1, 2]]
    filled, tokens, _ = sample.fill(Recorder(row), torch.tensor([[MASK, 0, MASK], [3, MASK, MASK]]),
                                    positions=positions,
                                    mask_token_id=MASK, base_vocab_size=BASE, temperature=1.0, generator=g)
    assert filled.tolist() == [[1, 0, 1], [3, 1, 1]] and tokens.tolist() == [[1, 1], [1, 1]]


def test_judge_and_remask_steps():
    p = torch.tensor([[.9, .1, .6], [.2, .8, .3]])
    assert torch.allclose(sample.judge(WrongStub(p), torch.zeros(2, 3, dtype=torch.long), wrong_token_id=WRONG), p)
    x = torch.tensor([[0, 1, 2], [3, 4, 0]])
    remasked, chosen = sample.remask(x, 'threshold', p, None, 0.5, None, mask_token_id=MASK)
    assert remasked.tolist() == [[MASK, 1, MASK], [3, MASK, 0]] and chosen.sum() == 3


# -----------------------------------------------------------------------------
# forward passes, counted by generate() and checked against models that count their calls

class CountingStub(torch.nn.Module):
    """Counts the rows it runs over (and the positions asked for); P([WRONG]) = p_at(call) everywhere."""

    def __init__(self, p_at=None):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))
        self.p_at, self.calls, self.rows = p_at, 0, []

    def forward(self, idx):
        self.rows.append(idx.size(0))
        p = torch.tensor(self.p_at(self.calls) if self.p_at else 0.0)
        self.calls += 1
        logits = torch.full((*idx.shape, V), -math.inf)
        logits[..., 0], logits[..., WRONG] = 0.0, p.clamp(1e-30, 1 - 1e-7).logit()  # token 0 or [WRONG]
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
def test_info_counts_the_passes_each_model_ran_over_each_row(mode, p_at, T):
    u, r = CountingStub(), CountingStub(p_at)
    _, info = sample.generate(u, r, batch_size=1, sequence_length=12, base_vocab_size=BASE, mask_token_id=MASK,
                              wrong_token_id=WRONG, mode=mode, diffusion_iterations=T, threshold=0.1,
                              generator=torch.Generator().manual_seed(0))
    assert info['fills'].tolist() == [u.calls] and info['passes'].tolist() == [u.calls + r.calls]
    converged = int(info['converged_at'][0]) > 0
    assert r.calls == (0 if mode in ('random', 'confidence') else u.calls if converged else u.calls - 1)


def test_info_counts_per_row_in_a_batch_whose_rows_converge_at_different_iterations():
    u = Recorder(torch.tensor([0.0, 0.0, -math.inf, -math.inf, -math.inf, 0.0, 0.0, 0.0]))  # 0 or 1, evenly
    r = ZeroIsWrong()
    _, info = sample.generate(u, r, batch_size=8, sequence_length=3, base_vocab_size=BASE, mask_token_id=MASK,
                              wrong_token_id=WRONG, mode='threshold', diffusion_iterations=30, threshold=0.5,
                              generator=torch.Generator().manual_seed(1))
    at = info['converged_at']
    assert len(set(at.tolist())) > 1 and (at > 0).all()
    assert torch.equal(info['fills'], at) and torch.equal(info['passes'], 2 * at)
    assert sum(r.batch_sizes) == int(at.sum())  # what the remasker really ran
    assert sum(len(c) for c in u.inputs) == int(at.sum())
    assert torch.equal(info['fill_positions'], 3 * at)  # threshold mode asks for logits everywhere


def test_info_counts_the_positions_the_unmasker_projected():
    cfg = GPTConfig(block_size=32, vocab_size=V, n_layer=1, n_head=2, n_embd=16)
    torch.manual_seed(0)
    u, r = Counting(cfg).eval(), Counting(cfg).eval()
    for fast in (True, False):
        u.calls.clear()
        _, info, _ = run('mixed', unmasker=u, remasker=r, B=2, L=32, T=5, fast=fast, threshold=0.2)
        asked = [n if n is not None else 32 for _, n in u.calls]
        assert info['fill_positions'].tolist() == [sum(asked)] * 2
        assert asked == ([32] + sample.remask_counts(32, 5, 'linear', 1.0, 0.1) if fast else [32] * 5)


# -----------------------------------------------------------------------------
# the script, against tiny checkpoints laid out like the shipped ones

CHARS = list("\n !,.?abcdefghijklmnopqrstuvwxyz")
SEP = '---------------\n'


def _tiny(path, training_type, seed, **overrides):
    return tiny_checkpoint(path, training_type, seed, CHARS, **overrides)


@pytest.fixture(scope='module')
def workdir(tmp_path_factory):
    """A folder with checkpoints/ holding tiny models under the names sample.py's defaults use."""
    d = tmp_path_factory.mktemp('work')
    ck = d / 'checkpoints'
    ck.mkdir()
    _tiny(ck / 'ckpt_unmasking.pt', 'unmasking', 0)
    _tiny(ck / 'ckpt_remasking_naive_4400.pt', 'remasking', 1)
    _tiny(ck / 'ckpt_fill_and_judge.pt', 'fill_and_judge', 7)  # sample.py's default: both models, one pass
    _tiny(ck / 'ckpt_remasking_prism.pt', 'remasking', 8)  # a remasker of its own, two passes
    _tiny(ck / 'my_model.pt', 'unmasking', 2)
    _tiny(ck / 'wide_remasker.pt', 'remasking', 3, n_embd=32)
    _tiny(ck / 'short_remasker.pt', 'remasking', 4, block_size=512)
    _tiny(ck / 'judge.pt', 'autoregressive', 5, attention_type='causal')
    nan = _tiny(ck / 'nan_unmasking.pt', 'unmasking', 6)
    with torch.no_grad():
        nan.transformer.ln_f.weight.fill_(float('nan'))
    save_checkpoint(str(ck / 'nan_unmasking.pt'), nan, training_type='unmasking',
                    tokenizer={'type': 'char', 'chars': CHARS}, base_vocab_size=len(CHARS),
                    mask_token_id=len(CHARS), wrong_token_id=len(CHARS) + 1)
    return d


@pytest.fixture
def sample_main(workdir, run_script):
    """`python sample.py *args` in workdir, run in this process: (exit code, stdout, stderr)."""
    return lambda *args: run_script('sample.py', *args, cwd=workdir)


def sample_py(workdir, *args):
    """`python sample.py *args` in workdir, as a real process."""
    return subprocess.run([sys.executable, os.path.join(ROOT, 'sample.py'), *args], cwd=workdir,
                          capture_output=True, text=True, timeout=300)


def texts(stdout):
    assert stdout.endswith('\n' + SEP)  # each text is followed by a newline and the separator
    return stdout[:-len(SEP) - 1].split('\n' + SEP)


GUIDE_COMMANDS = [  # every command line in the guide, as written
    ([], 'schedule', 1, 1024),
    (['--use_intelligent_remasking=True', '--remasking_confidence_threshold=0.005'], 'threshold', 1, 1024),
    (['--use_intelligent_remasking=True', '--use_mixed_remasking=True', '--remasking_confidence_threshold=0.01'],
     'mixed', 1, 1024),
    (['--use_mixed_remasking=True', '--remasking_schedule=exponential', '--diffusion_iterations=20'],
     'mixed', 1, 1024),
    (['--checkpoint_name=my_model.pt', '--sequence_length=512'], 'schedule', 1, 512),
    (['--num_samples=5'], 'schedule', 5, 1024),
]


@pytest.mark.parametrize('args, mode, n, length', GUIDE_COMMANDS)
def test_guide_command_lines(sample_main, args, mode, n, length):
    code, out, err = sample_main(*args)
    assert code == 0, err
    assert f"mode: {mode} " in err
    out = texts(out)
    assert len(out) == n
    assert all(len(t) == length and set(t) <= set(CHARS) for t in out)


PRESETS = {  # config/ preset -> (mode, iterations run at most, sequence length)
    'sample_random.py': ('random', 30, 1024),
    'sample_schedule.py': ('schedule', 30, 1024),
    'sample_threshold.py': ('threshold', 30, 1024),
    'sample_mixed.py': ('mixed', 30, 1024),
    'sample_high_quality_threshold.py': ('threshold', 100, 1024),
    'sample_controlled_mixed.py': ('mixed', 30, 1024),
    'sample_fast_mixed.py': ('mixed', 20, 512),
    'sample_baseline_random.py': ('random', 50, 1024),
    'sample_confidence.py': ('confidence', 59, 1024),
    'sample_fill_once.py': ('fill_once', 59, 1024),
    'sample_fill_once_confidence.py': ('fill_once_confidence', 59, 1024),
    'sample_self_correction.py': ('fill_once_confidence', 59, 1024),
    'sample_guide_rule.py': ('schedule', 30, 1024),  # the defaults' mode, by the guide's literal rule
}


def test_every_sampling_preset_is_tested():
    presets = {f for f in os.listdir(os.path.join(ROOT, 'config')) if f.startswith('sample_')}
    assert presets == set(PRESETS)


@pytest.mark.parametrize('preset', sorted(PRESETS))
def test_presets(sample_main, preset, tmp_path):
    mode, iterations, length = PRESETS[preset]
    out_file = tmp_path / 'out.jsonl'
    code, out, err = sample_main(os.path.join(ROOT, 'config', preset), '--num_samples=2', f'--out_file={out_file}')
    assert code == 0, err
    assert f"mode: {mode} " in err
    rows = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert [r['sample'] for r in rows] == [0, 1]
    assert [r['text'] for r in rows] == texts(out)
    for r in rows:
        assert r['mode'] == mode and r['seed'] == 1337 and len(r['text']) == length
        if mode == 'threshold':
            assert 1 <= r['iterations'] <= iterations
        else:
            assert r['iterations'] == iterations and r['converged_at'] is None


def test_a_knob_the_mode_does_not_use_gets_a_note_and_the_mode_says_what_it_draws(sample_main):
    args = ['--sequence_length=32', '--diffusion_iterations=3']
    code, _, err = sample_main(*args, '--use_fill_once=True', '--selection_temperature=1.5', '--max_remask_kept=0.2')
    assert code == 0 and 'mode: fill_once ' in err
    assert "note: selection_temperature=1.5 is not used: only schedule, mixed, confidence, fill_once_confidence" in err
    assert "note: max_remask_kept=0.2 is not used" in err
    code, _, err = sample_main(*args)  # the defaults: nothing to note
    assert code == 0 and 'note:' not in err
    assert 'the re-masked drawn in proportion to P([WRONG])^(1/3)' in err and 'only from the tokens just filled' in err
    code, _, err = sample_main(*args, os.path.join(ROOT, 'config', 'sample_guide_rule.py'))
    assert code == 0 and 'drawn in proportion' not in err and 'just filled' not in err and 'top-N by P' in err
    assert "note: random_from='all' is not used: only random, mixed modes use it" in err  # a setting ignored is said


def test_same_seed_same_texts_across_runs_and_batches(sample_main):
    args = ['--num_samples=3', '--batch_size=2', '--sequence_length=64', '--diffusion_iterations=5']
    a, b, c = sample_main(*args), sample_main(*args), sample_main(*args, '--seed=7')
    assert a[0] == b[0] == c[0] == 0
    assert a[1] == b[1] and len(texts(a[1])) == 3
    assert a[1] != c[1]
    assert 'batch 2/2' in a[2]


def test_default_batch_size_on_the_cpu_is_one_text_at_a_time(sample_main):
    code, out, err = sample_main('--num_samples=2', '--sequence_length=32', '--diffusion_iterations=3')
    assert code == 0 and 'batch_size 1' in err
    assert 'batch 1/2: samples 0..0' in err and 'batch 2/2: samples 1..1' in err
    explicit = sample_main('--num_samples=2', '--sequence_length=32', '--diffusion_iterations=3', '--batch_size=1')
    assert explicit[1] == out


def test_verbose_false_prints_only_the_texts(sample_main):
    code, out, err = sample_main('--verbose=False', '--sequence_length=32', '--diffusion_iterations=3',
                                 '--num_samples=2')
    assert code == 0 and err == ''
    assert len(texts(out)) == 2


def test_verbose_reports_iterations_and_summary(sample_main):
    code, out, err = sample_main('--use_mixed_remasking=True', '--sequence_length=100', '--diffusion_iterations=4')
    assert code == 0
    lines = [line for line in err.splitlines() if line.startswith('iter ')]
    assert len(lines) == 4
    assert 'P([WRONG]) min' in lines[0] and 'by threshold' in lines[0] and 'at random' in lines[0]
    assert 'tokens/s' in err and 'sample 0: ran 4 iterations' in err


BAD_INPUTS = [
    (['--checkpoint_name=nope.pt'], 'checkpoints/nope.pt not found; checkpoints/ holds'),
    (['--out_dir=missing_dir'], 'missing_dir/ does not exist'),
    (['--remasking_checkpoint_name=wide_remasker.pt'], 'incompatible: n_embd 16 vs 32'),
    (['--remasking_checkpoint_name=short_remasker.pt'], 'incompatible: block_size 1024 vs 512'),
    (['--remasking_checkpoint_name=my_model.pt'],
     'remasking_checkpoint_name must name a remasking or fill_and_judge model'),
    (['--checkpoint_name=judge.pt'], 'checkpoint_name must name an unmasking or fill_and_judge model'),
    (['--remasking_schedule=cosine'], 'unknown remasking_schedule'),
    (['--remasking_confidence_threshold=1.5'], 'strictly between 0 and 1'),
    (['--remasking_confidence_threshold=0'], 'strictly between 0 and 1'),
    (['--start_ratio=1.5'], 'start_ratio must lie in [0, 1]'),
    (['--end_ratio=-0.5'], 'end_ratio must lie in [0, 1]'),
    (['--start_ratio=0.3', '--end_ratio=0.6'], 'must not exceed start_ratio'),
    (['--diffusion_iterations=0'], 'diffusion_iterations must be'),
    (['--sequence_length=0'], 'sequence_length must be'),
    (['--num_samples=0'], 'num_samples must be'),
    (['--batch_size=-1'], 'batch_size must be'),
    (['--batch_size=0'], 'batch_size must be an integer of at least 1, got 0'),  # regression: 0 read as None
    (['--sequence_length=2048', '--context=0'], "context must be None (a quarter of the models' block_size) or a"),
    (['--context=0'], "got 0"),  # checked though one window uses no context (regression: it ran and exited 0)
    (['--sequence_length=2048', '--context=1024'], "context 1024 must be below the models' block_size 1024 (each"),
    (['--context=1024'], "context 1024 must be below the models' block_size 1024"),
    (['--out_file=checkpoints'], "out_file='checkpoints' must name a file in an existing folder"),
    (['--out_file=nowhere/x.jsonl'], "out_file='nowhere/x.jsonl' must name a file in an existing folder"),
    (['--replay_samples=0'], "replay_samples must be an integer of at least 1, got 0"),  # checked, replay off
    (['--live=always'], "live must be False, True"),
    (['--sequence_length=2048', '--replay=long.html'], 'replay holds one window of at most block_size 1024 tokens'),
    (['--device=tpu'], 'unknown device'),
    (['--dtype=float8'], 'unknown dtype'),
    (['--use_intelligent_remasking=False', '--use_mixed_remasking=True'], 'needs use_intelligent_remasking=True'),
    (['--remasking_checkpoint_name=None'], 'needs a remasking model'),
    (['--checkpoint_name=nan_unmasking.pt', '--sequence_length=16', '--diffusion_iterations=2'], 'NaN logits'),
    (['--sequence_length=12.5'], '--sequence_length expects int'),
    (['--bogus=1'], 'unknown knob --bogus'),
    (['not_a_config.py'], 'config file not_a_config.py not found'),
    (['--start=ROMEO'], "start: text has characters outside the vocabulary: 'EMOR'"),
    (['--start=to be', '--sequence_length=5'], 'start is 5 tokens, which leaves nothing of sequence_length 5'),
    (['--start=FILE:no_prompt.txt'], "start='FILE:no_prompt.txt': cannot read no_prompt.txt"),
    (['--infill=no hole here'], 'the template has no hole to fill'),
    (['--infill=a {x} b'], "'{' at character 2 opens no hole"),
    (['--infill=a{3}', '--start=b'], 'not both'),
    (['--infill=a{2000}'], "longer than the models' block_size 1024"),
]
if not torch.cuda.is_available():
    BAD_INPUTS.append((['--device=cuda'], 'CUDA is not available'))


@pytest.mark.parametrize('args, message', BAD_INPUTS)
def test_bad_input_is_one_clear_line_and_a_nonzero_exit(sample_main, args, message):
    # an exception other than the script's exit would fail the test
    assert_error_line(*sample_main(*args), message, alone=False)


@pytest.mark.parametrize('args, message', [b for b in BAD_INPUTS
                                            if b[1].startswith(('checkpoints/nope.pt', 'NaN', 'unknown knob'))])
def test_bad_input_in_a_real_process(workdir, args, message):
    res = sample_py(workdir, *args)
    assert_error_line(res.returncode, res.stdout, res.stderr, message, alone=False)


def test_a_prompt_starts_every_sample_and_goes_to_the_out_file(sample_main, tmp_path):
    (tmp_path / 'prompt.txt').write_text('to be, or not\n')
    code, out, err = sample_main(f'--start=FILE:{tmp_path / "prompt.txt"}', '--sequence_length=40', '--num_samples=3',
                                 '--batch_size=2', '--diffusion_iterations=4', '--use_mixed_remasking=True',
                                 f'--out_file={tmp_path / "o.jsonl"}')
    assert code == 0, err
    assert 'prompt: 14 tokens given, 26 to generate' in err
    out = texts(out)
    assert len(out) == 3 and all(t.startswith('to be, or not\n') and len(t) == 40 for t in out)
    lines = [json.loads(line) for line in (tmp_path / 'o.jsonl').read_text().splitlines()]
    assert [line['start'] for line in lines] == ['to be, or not\n'] * 3 and [line['text'] for line in lines] == out


def test_a_template_keeps_its_text_and_fills_its_holes(sample_main, tmp_path):
    code, out, err = sample_main('--infill=who is {5}? the {}.', '--sequence_length=30', '--diffusion_iterations=5',
                                 f'--out_file={tmp_path / "o.jsonl"}')
    assert code == 0, err
    assert 'template: 14 tokens given, 16 to generate' in err
    (text,) = texts(out)
    assert len(text) == 30 and text.startswith('who is ') and text[12:18] == '? the ' and text.endswith('.')
    assert json.loads((tmp_path / 'o.jsonl').read_text())['infill'] == 'who is {5}? the {}.'
    code, out, err = sample_main('--infill=who is {5}?', '--diffusion_iterations=3')  # no {}: the template is all
    assert code == 0 and 'the template is the whole sample' in err and len(texts(out)[0]) == 13


@pytest.fixture
def bpe_workdir(tmp_path, monkeypatch):
    """checkpoints/ with a tiny unmasker over a small BPE vocabulary: bytes, then 'th', 'the', ' the'
    (a tiktoken Encoding built here and handed out for 'gpt2', so nothing is downloaded)."""
    import tiktoken

    from model import GPT, GPTConfig, save_checkpoint, special_token_ids
    ranks = {bytes([i]): i for i in range(256)}
    ranks.update({b'th': 256, b'the': 257, b' the': 258})
    enc = tiktoken.Encoding(name='small', pat_str=r" ?\w+| ?[^\w\s]+|\s+", mergeable_ranks=ranks, special_tokens={})
    monkeypatch.setattr(tiktoken, 'get_encoding', lambda name: enc)
    m, w, vocab = special_token_ids(enc.n_vocab, pad_to=8)
    (tmp_path / 'checkpoints').mkdir()
    torch.manual_seed(0)
    save_checkpoint(str(tmp_path / 'checkpoints' / 'ckpt_unmasking.pt'),
                    GPT(GPTConfig(block_size=64, vocab_size=vocab, n_layer=1, n_head=2, n_embd=16)),
                    training_type='unmasking', tokenizer={'type': 'tiktoken', 'encoding': 'gpt2'},
                    base_vocab_size=enc.n_vocab, mask_token_id=m, wrong_token_id=w)
    return tmp_path, enc


def test_prompts_and_templates_with_a_bpe_tokenizer(bpe_workdir, run_script):
    folder, enc = bpe_workdir
    from model import TiktokenTokenizer
    tok = TiktokenTokenizer(enc)
    assert sample.given_tokens(tok, 10, start='the the') == enc.encode_ordinary('the the') + [-1] * 8
    assert sample.given_tokens(tok, 99, infill='the {2} {{x}}') == \
        enc.encode_ordinary('the ') + [-1, -1] + enc.encode_ordinary(' {x}')  # each piece on its own
    code, out, err = run_script('sample.py', '--infill=the {3} the {} {{the}}', '--sequence_length=20',
                                '--use_fill_once=True', '--diffusion_iterations=4',
                                '--checkpoint_name=ckpt_unmasking.pt', cwd=folder)
    assert code == 0, err
    assert 'template: ' in err and 'tokens given, ' in err
    (text,) = texts(out)
    assert text.startswith('the') and text.endswith(' {the}')


def test_unreadable_checkpoint_is_one_clear_line(sample_main, tmp_path):
    (tmp_path / 'broken.pt').write_bytes(b'not a checkpoint')
    code, out, err = sample_main(f'--checkpoint_name={tmp_path / "broken.pt"}')
    assert code == 1
    assert err.strip().splitlines()[-1].startswith(f"error: cannot read checkpoint {tmp_path / 'broken.pt'}")


def test_confidence_remasking_from_the_command_line_loads_no_remasker(sample_main):
    code, out, err = sample_main('--use_confidence_remasking=True', '--remasking_checkpoint_name=nope.pt',
                                 '--sequence_length=64', '--diffusion_iterations=3')
    assert code == 0, err
    assert 'mode: confidence (beyond the guide' in err and 'remasking model: none' in err
    assert '1 - P(token) min' in err
    assert len(texts(out)) == 1
    code, out, err = sample_main('--use_confidence_remasking=True', '--use_mixed_remasking=True')
    assert code == 1 and err.strip().splitlines()[-1].startswith('error: use_confidence_remasking')


def test_compile_runs_end_to_end(sample_main, monkeypatch):
    """Regression: the header's `if remasker` called len() on the compiled module and crashed. The
    models are compiled as sample.py compiles them, with the eager backend: the wrapper is what
    matters here, not the C++ that inductor would spend a minute building."""
    compile_ = torch.compile
    monkeypatch.setattr(torch, 'compile', lambda m, **kw: compile_(m, backend='eager', **kw))
    code, out, err = sample_main('--compile=True', '--use_mixed_remasking=True', '--sequence_length=32',
                                 '--diffusion_iterations=2')
    assert code == 0, err[-2000:]
    assert 'compiled' in err and len(texts(out)) == 1


@pytest.mark.slow
def test_torchrun_two_processes_write_the_one_process_texts_in_order(workdir, sample_main, tmp_path):
    """torchrun spreads the batches over processes (gloo on the CPU); process 0 prints them all,
    in order: the same stdout and out_file as one process. Threshold mode: the processes' batches
    converge at different iterations; and each text is longer than a block (two windows)."""
    # the prompt in a config file: torchrun would read --start=... as an abbreviation of its own --start-method
    (tmp_path / 'prompt.py').write_text("start = 'the king'\n")
    args = [str(tmp_path / 'prompt.py'), '--device=cpu', '--num_samples=5', '--batch_size=2', '--sequence_length=1100',
            '--context=64', '--diffusion_iterations=4', '--remasking_confidence_threshold=0.5',
            '--live=frames']  # 2 windows
    one = sample_main(*args, f'--out_file={tmp_path / "one.jsonl"}')
    two = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2',
                          os.path.join(ROOT, 'sample.py'), *args, f'--out_file={tmp_path / "two.jsonl"}'],
                         cwd=workdir, capture_output=True, text=True, timeout=300,
                         env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert one[0] == 0, one[2]
    assert two.returncode == 0, two.stderr
    assert len(texts(one[1])) == 5 and all(t.startswith('the king') and len(t) == 1100 for t in texts(one[1]))
    assert two.stdout == one[1]
    assert (tmp_path / 'two.jsonl').read_text() == (tmp_path / 'one.jsonl').read_text()
    assert 'device 2 processes, cpu' in two.stderr
    assert two.stderr.count('mode: ') == 1  # only process 0 logs
    # the live view's first frame of each window of each batch: 3 batches in one process, on
    # process 0 of two its batches 0 and 2 alone (process 1 draws none)
    assert one[2].count('== iter 1/4') == 3 * 2 and two.stderr.count('== iter 1/4') == 2 * 2


def test_importing_sample_runs_nothing(import_fresh):
    assert import_fresh('sample.py', '--bogus=1', 'nofile.py') == ('', '')


COPIED = '''
import runpy, sys
for args in {runs!r}:
    sys.argv = ['sample.py', *args]
    try:
        runpy.run_path('sample.py', run_name='__main__')
    except SystemExit as e:
        sys.exit(e.code)
imported = sorted(m for m in sys.modules if m in ('train', 'eval', 'bench'))
print('imported:', imported, file=sys.stderr)
'''


def test_three_files_and_a_checkpoint_generate_in_every_mode_on_their_own(workdir, tmp_path):
    """sample.py, model.py and configurator.py copied with the checkpoints into an empty folder (or a
    nanoGPT-style repo) generate in every mode: they import nothing else of this repository."""
    for f in ('sample.py', 'model.py', 'configurator.py'):
        shutil.copy(os.path.join(ROOT, f), tmp_path / f)
    shutil.copytree(workdir / 'checkpoints', tmp_path / 'checkpoints')
    short = ['--sequence_length=40', '--diffusion_iterations=3', '--verbose=False']
    runs = [short + ['--use_intelligent_remasking=False'], short, short + ['--remasking_confidence_threshold=0.5'],
            short + ['--use_mixed_remasking=True'], short + ['--use_confidence_remasking=True']]
    res = subprocess.run([sys.executable, '-c', COPIED.format(runs=runs)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, env={**os.environ, 'PYTHONPATH': ''})
    assert res.returncode == 0, res.stderr
    assert len(texts(res.stdout)) == len(runs)
    assert res.stderr.strip() == 'imported: []'


# -----------------------------------------------------------------------------
# paths a user takes: Ctrl-C, threshold mode that does not converge, models of another size

def _interrupt_when(proc, ready, timeout=120):
    """SIGINT to proc once ready() holds; (exit code, stdout, stderr)."""
    import signal
    import time as clock
    t0 = clock.time()
    while not ready() and proc.poll() is None and clock.time() - t0 < timeout:
        clock.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


@pytest.mark.slow
def test_ctrl_c_is_one_line_exit_130_and_only_whole_samples_in_out_file(workdir, tmp_path):
    jsonl = tmp_path / 's.jsonl'
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, 'sample.py'), '--num_samples=400',
                             '--sequence_length=64', '--diffusion_iterations=4', f'--out_file={jsonl}',
                             '--verbose=False'], cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    code, out, err = _interrupt_when(proc, lambda: jsonl.exists() and jsonl.stat().st_size > 0)
    assert code == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('interrupted; ') and lines[0].endswith(f'whole sample(s) in {jsonl}')
    rows = [json.loads(line) for line in jsonl.read_text().splitlines()]  # every line whole
    assert rows and f'; {len(rows)} whole sample(s)' in lines[0] and jsonl.read_text().endswith('\n')
    assert [r['sample'] for r in rows] == list(range(len(rows)))
    assert all(r['passes'] == r['fills'] == 4 for r in rows)  # one pass an iteration


@pytest.mark.slow
def test_ctrl_c_before_any_sample_leaves_no_out_file(workdir, tmp_path):
    jsonl, log = tmp_path / 'never.jsonl', tmp_path / 'stderr.txt'
    with open(log, 'w') as err_file:  # one long batch: interrupted once the run has started, before any sample
        proc = subprocess.Popen([sys.executable, os.path.join(ROOT, 'sample.py'), '--num_samples=300',
                                 '--batch_size=300', '--diffusion_iterations=200', f'--out_file={jsonl}'],
                                cwd=workdir, stdout=subprocess.PIPE, stderr=err_file, text=True)
        code, out, _ = _interrupt_when(proc, lambda: 'sample(s) of' in log.read_text())
    err = log.read_text()
    assert code == 130 and err.strip().splitlines()[-1] == 'interrupted' and 'Traceback' not in err, err
    assert not jsonl.exists() and out == ''


def test_threshold_mode_that_does_not_converge_says_so_in_a_warning_even_quietly(sample_main):
    # the default remasker here is tiny and random: every token is above a low threshold in every pass
    code, out, err = sample_main('--remasking_confidence_threshold=0.001', '--diffusion_iterations=5',
                                 '--sequence_length=32', '--verbose=False')
    assert code == 0 and len(texts(out)) == 1
    (line,) = err.strip().splitlines()
    assert line.startswith('warning: threshold mode did not converge: 1 of 1 samples ran all 5 iterations')
    assert 'a higher remasking_confidence_threshold' in line and '--use_mixed_remasking=True' in line
    code, out, err = sample_main('--remasking_confidence_threshold=0.999', '--diffusion_iterations=5',
                                 '--sequence_length=32', '--verbose=False')
    assert code == 0 and err == ''  # it converged: nothing to say


def test_a_model_of_another_block_size_samples_with_the_defaults(sample_main, tmp_path):
    """Regression: the default context (256) was larger than a block of 128, and the default 1024
    characters stopped there; context now follows the models' block."""
    small = tmp_path / 'small.pt'
    _tiny(small, 'fill_and_judge', 3, block_size=128)
    code, out, err = sample_main(f'--checkpoint_name={small}', f'--remasking_checkpoint_name={small}',
                                 '--diffusion_iterations=3')
    assert code == 0, err
    assert 'written in 11 windows, each next one beginning with the last 32 tokens so far' in err
    assert len(texts(out)[0]) == 1024
    code, out, err = sample_main(f'--checkpoint_name={small}', f'--remasking_checkpoint_name={small}', '--context=128')
    assert_error_line(code, out, err, "context 128 must be below the models' block_size 128", alone=False)


def test_the_mode_line_says_threshold_mode_corrects_only_a_sequence_still_running():
    assert 'in the last 10 iterations of a sequence not converged by then:' in sample.describe(
        sample.sampling(mode='threshold', threshold=0.01), 10)
    assert 'not converged' not in sample.describe(sample.sampling(mode='schedule'), 10)
