"""The generation stream (sample.steps and its Step records) and self-correction, against stub models
with known outputs and tiny GPTs."""

import math
import re
from dataclasses import replace

import pytest
import torch

import sample
from model import GPTConfig
from test_sample import BASE, MASK, RULES, WRONG, Counting, Recorder, V, WrongStub, given, run

CORRECTING = dict(correction_passes=3, correction_share=0.1, correction_reread=0.3,
                  correction_by='margin')  # 4 of 12+ on 40


def stream(mode, unmasker=None, remasker=None, B=2, L=10, T=5, seed=0, fast=False, **kw):
    """The Steps of generate()'s loop (as run() runs it, by the guide's rule unless kw says otherwise),
    and the unmasking model's record of its inputs."""
    unmasker = unmasker or Recorder()
    g = torch.Generator().manual_seed(seed)
    out = list(sample.steps(unmasker, remasker, batch_size=B, sequence_length=L, base_vocab_size=BASE,
                            mask_token_id=MASK, wrong_token_id=WRONG, mode=mode, diffusion_iterations=T,
                            generator=g, fast=fast, **{**sample.GUIDE_RULE, **kw}))
    return out, unmasker


def views(step):
    """Every whole-batch view of a Step, by name."""
    return {k: getattr(step, k) for k in ('tokens', 'masked', 'remasked', 'corrected', 'reread', 'score', 'read',
                                         'given', 'ran', 'converged')}


def same(a, b):
    return a.shape == b.shape and torch.equal(a.isnan(), b.isnan()) and torch.equal(a.nan_to_num(), b.nan_to_num()) \
        if a.is_floating_point() else torch.equal(a, b)


# -----------------------------------------------------------------------------
# the stream

@pytest.mark.parametrize('correct', [False, True])
@pytest.mark.parametrize('mode', sample.MODES)
def test_the_fast_paths_stream_is_the_reference_loops(mode, correct):
    torch.manual_seed(0)
    cfg = GPTConfig(block_size=40, vocab_size=V, n_layer=1, n_head=2, n_embd=16)
    u, r = Counting(cfg).eval(), Counting(cfg).eval()
    kw = dict(unmasker=u, remasker=r, B=4, L=40, T=8, seed=3, threshold=0.13, fixed=given(4, 40),
              **{**RULES['defaults'], **(CORRECTING if correct else {})})
    plain, _ = stream(mode, fast=False, **kw)
    fast, _ = stream(mode, fast=True, **kw)
    assert len(plain) == len(fast) >= 2
    for a, b in zip(plain, fast):
        assert a.iteration == b.iteration and a.last == b.last
        for name, view in views(a).items():
            assert same(view, views(b)[name]), (mode, a.iteration, name)
    assert plain[-1].last and not any(s.last for s in plain[:-1])
    if correct:
        assert any(s.corrected.any() for s in fast)  # the check saw corrections


@pytest.mark.parametrize('correct', [False, True])
@pytest.mark.parametrize('mode', sample.MODES)
def test_each_step_is_what_the_models_saw_and_did(mode, correct):
    """Step i's text with its re-masked positions as [MASK] is what the unmasking model reads at i+1
    (with the re-read positions masked too); what it filled was [MASK] before; the last Step is
    generate()'s output."""
    B, L, T = 3, 40, 7
    fixed = given(B, L)
    kw = dict(B=B, L=L, T=T, seed=1, threshold=0.5, fixed=fixed, **{**RULES['defaults'],
                                                                     **(CORRECTING if correct else {})})
    p = torch.rand(B, L, generator=torch.Generator().manual_seed(0))
    steps, u = stream(mode, remasker=WrongStub(p), **kw)
    tokens, info, _ = run(mode, remasker=WrongStub(p), **kw)
    assert torch.equal(steps[-1].tokens, tokens) and steps[-1].info['iterations'] == info['iterations'] == len(steps)
    for i, step in enumerate(steps):
        seen = u.inputs[i]
        assert torch.equal(step.masked | step.reread, seen == MASK)
        assert not (step.masked & step.reread).any() and (step.tokens < BASE).all()
        assert torch.equal(step.tokens[~step.masked], torch.where(seen == MASK, step.tokens, seen)[~step.masked])
        assert not (step.given & (step.remasked | step.reread)).any()
        assert torch.equal(step.given, fixed >= 0)
        if i + 1 < len(steps):
            assert torch.equal(torch.where(step.remasked, MASK, step.tokens), torch.where(steps[i + 1].reread,
                                                                                          step.tokens, u.inputs[i + 1]))
            assert torch.equal(steps[i + 1].masked, step.remasked)
    assert not steps[-1].remasked.any()
    scored = [s for s in steps if not s.last]
    if mode in sample.NEEDS_REMASKER:  # P([WRONG]) where a row ran, as the stub gave it
        assert all(torch.allclose(s.score[s.ran], p[s.ran]) for s in scored if not s.score.isnan().all())
    elif mode not in sample.CONFIDENCE:
        assert all(s.score.isnan().all() for s in steps)
    if correct:
        corrected = [s for s in steps if s.corrected.any()]
        assert corrected and all((s.corrected <= s.reread).all() and (s.corrected <= s.remasked).all()
                                 for s in corrected)


def test_threshold_steps_mark_the_rows_that_ran_and_converged():
    first = torch.tensor([[0.0] * 6, [0.9] * 6])  # row 0 converges after iteration 1
    steps, _ = stream('threshold', remasker=WrongStub(first, torch.full((2, 6), 0.9)), L=6, T=4, threshold=0.5)
    assert [s.converged.tolist() for s in steps] == [[True, False]] * 4
    assert [s.ran.tolist() for s in steps] == [[True, True]] + [[False, True]] * 3
    assert steps[1].score[0].isnan().all() and not steps[1].masked[0].any()  # a row left alone shows nothing


def test_generate_hands_every_step_to_watch_and_logs_from_the_same_stream():
    seen, lines = [], []
    tokens, info, _ = run('mixed', remasker=WrongStub(torch.rand(2, 10)), T=4, threshold=0.3,
                          watch=seen.append, log=lines.append)
    assert [s.iteration for s in seen] == [0, 1, 2, 3] and torch.equal(seen[-1].tokens, tokens)
    assert len(lines) == 4 and lines[-1].endswith('; done') and 'by threshold' in lines[0]


class Syncs:
    """Counts the tensor methods that wait for the device (a host sync on CUDA) while it is on."""
    METHODS = ('item', 'tolist', 'numpy', 'cpu', 'nonzero', '__bool__', '__int__', '__float__', '__index__')

    def __init__(self, monkeypatch):
        self.count = 0
        for name in self.METHODS:
            original = getattr(torch.Tensor, name)

            def counted(*args, _original=original, **kw):
                self.count += 1
                return _original(*args, **kw)
            monkeypatch.setattr(torch.Tensor, name, counted)


@pytest.mark.parametrize('correct', [False, True])
@pytest.mark.parametrize('mode', [m for m in sample.MODES if m != 'threshold'])
def test_no_host_sync_per_iteration_when_nobody_watches(mode, correct, monkeypatch):
    """Outside threshold mode (whose one sync an iteration finds the rows still running), the loop
    never waits for the device: the syncs of a run do not grow with its iterations."""
    torch.manual_seed(0)
    cfg = GPTConfig(block_size=48, vocab_size=V, n_layer=1, n_head=2, n_embd=16)
    u, r = Counting(cfg).eval(), Counting(cfg).eval()
    syncs = Syncs(monkeypatch)
    counts = []
    for T in (4, 12):
        syncs.count = 0
        run(mode, unmasker=u, remasker=r, B=2, L=48, T=T, fast=True, threshold=0.2, fixed=given(2, 48),
            **{**RULES['defaults'], **(CORRECTING if correct else {})})
        counts.append(syncs.count)
    assert counts[0] == counts[1] and counts[0] <= 4, counts


# -----------------------------------------------------------------------------
# self-correction

def test_self_correction_rereads_and_corrects_its_shares_after_a_shortened_schedule():
    B, L, T, C = 2, 40, 8, 3
    steps, u = stream('fill_once', B=B, L=L, T=T, **{**CORRECTING, 'correction_passes': C})
    S = T - C  # the schedule's iterations: fill-once keeps L/S a pass and is done after S
    mode_counts = sample.fill_once_counts(L, S)
    assert [int(s.masked[0].sum()) for s in steps[:S]] == [L] + mode_counts
    for i, step in enumerate(steps):
        rereads = i >= T - 1 - C and not step.last
        kept = L - int(step.masked[0].sum())
        assert step.reread.sum(dim=1).tolist() == [round(0.3 * kept) if rereads else 0] * B
        assert step.corrected.sum(dim=1).tolist() == [round(0.1 * L) if rereads else 0] * B
        if i >= S - 1:  # after the schedule only corrections are re-masked
            assert torch.equal(step.remasked, step.corrected)
        if rereads:  # the re-read tokens were read, not redrawn
            assert not step.read[step.reread].isnan().any() and step.read[~step.reread].isnan().all()
    assert len(u.inputs) == T  # every pass is one unmasking pass


def test_self_correction_inside_keeps_the_whole_schedule():
    B, L, T, C = 1, 40, 8, 3
    steps, _ = stream('fill_once', B=B, L=L, T=T, **{**CORRECTING, 'correction_passes': C, 'correction_inside': True})
    mode_counts = sample.fill_once_counts(L, T)
    assert [int((s.remasked & ~s.corrected).sum()) for s in steps[:-1]] == mode_counts
    assert [bool(s.reread.any()) for s in steps] == [i >= T - 1 - C for i in range(T - 1)] + [False]


def test_self_correction_with_a_remasker_rests_the_remasker_after_the_schedule():
    u, r = Recorder(), WrongStub(torch.rand(1, 40))
    _, info, _ = run('schedule', unmasker=u, remasker=r, B=1, L=40, T=10, **CORRECTING)
    assert info['fills'].tolist() == [10] and (info['passes'] - info['fills']).tolist() == [10 - 3 - 1] == [r.calls]


class PositionSure(Recorder):
    """Sure of token 0 at the start (every position fills with 0), then at position j gives token 0
    the probability of `later(j)`, a (V,) logits row."""

    def __init__(self, later):
        super().__init__()
        self.later = later

    def forward(self, idx):
        self.inputs.append(idx.clone())
        if len(self.inputs) == 1:
            row = torch.full((V,), -9.0)
            row[0] = 9.0
            return row.expand(*idx.shape, V).clone(), None
        rows = torch.stack([self.later(j) for j in range(idx.size(1))])  # (L, V)
        return rows.expand(idx.size(0), -1, -1).clone(), None


def _flat_or_wrong(j):
    """Even positions: every real token as likely (P(0) = 0.2, nothing likelier: ambiguous). Odd: token
    1 likelier than token 0 (P(0) = 0.3, P(1) = 0.7: wrong)."""
    row = torch.full((V,), -math.inf)
    if j % 2 == 0:
        row[:BASE] = 0.0
    else:
        row[0], row[1] = math.log(0.3), math.log(0.7)
    return row


def test_correction_by_margin_takes_the_furthest_below_the_best_not_the_least_likely():
    """Fill-once over T - C = 2 passes: the first fills token 0 everywhere and keeps half; the second
    (the correction pass) re-reads 0.9 of those and corrects round(0.1 * 80) = 8 of them: at even
    positions token 0 is as likely as any (0.2, margin 0), at odd ones below the best (0.3 against
    0.7), so the odd ones go, though the even ones are the less likely."""
    parity = 1
    steps, _ = stream('fill_once', unmasker=PositionSure(_flat_or_wrong), B=1, L=80, T=3, temperature=0.0,
                      correction_passes=1, correction_share=0.1, correction_reread=0.9, correction_by='margin')
    step = steps[1]
    assert step.reread.sum() == 36 and (step.tokens[step.reread] == 0).all()
    read = step.read[step.reread]
    assert torch.allclose(read.unique(), torch.tensor([0.2, 0.3]))
    chosen = step.corrected[0].nonzero().flatten().tolist()
    assert len(chosen) == 8 and all(j % 2 == parity for j in chosen), chosen


def test_self_correction_never_rereads_given_tokens_and_threshold_rows_that_converge_keep_their_text():
    B, L = 2, 24
    fixed = given(B, L)
    odd = torch.arange(L) % 2 == 1
    half = torch.where(odd, 0.9, 0.0).expand(B, L)  # the odd positions are re-masked, the even kept
    then = torch.stack([torch.zeros(L), torch.where(odd, 0.9, 0.0)])  # row 0 converges after iteration 2
    steps, _ = stream('threshold', remasker=WrongStub(half, then), B=B, L=L, T=6, threshold=0.5, fixed=fixed,
                      correction_passes=5, correction_share=0.2, correction_reread=0.5, correction_by='margin')
    assert steps[1].converged.tolist() == [True, False]
    kept = (~steps[1].masked & (fixed < 0)).sum(dim=1)  # the kept generated tokens each row re-read half of
    assert steps[1].reread.sum(dim=1).tolist() == [round(0.5 * k) for k in kept.tolist()]
    assert not steps[1].remasked[0].any()  # converged: its corrections are dropped, its text kept
    assert steps[1].corrected[1].any() and (steps[1].corrected[1] <= ~odd).all()
    for s in steps:
        assert not (s.reread & (fixed >= 0)).any()


@pytest.mark.parametrize('knob, value, message', [
    ('correction_passes', 5, 'correction_passes must be None (a third) or an integer from 0 (off) to '
                             'diffusion_iterations - 1 = 4'),
    ('correction_passes', -1, 'correction_passes must be'),
    ('correction_passes', 1.5, 'correction_passes must be'),
    ('correction_share', 0.0, 'correction_share must be a share in (0, 1], got 0.0'),
    ('correction_reread', 1.5, 'correction_reread must be a share in (0, 1], got 1.5'),
    ('correction_by', 'worst', "unknown correction_by 'worst'"),
    ('correction_inside', 1, 'correction_inside must be True or False'),
    ('correction_by', 'probability', "unknown correction_by 'probability'"),
])
def test_bad_sampling_knobs_are_value_errors(knob, value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        run('fill_once', **{knob: value})


def test_correction_by_the_remasker_takes_the_kept_tokens_it_finds_most_wrong_at_a_pass_each():
    B, L, T = 1, 40, 6
    p = torch.linspace(0.01, 0.9, L).expand(B, L)  # the later a position, the more wrong it looks
    r = WrongStub(p)
    steps, _ = stream('fill_once', remasker=r, B=B, L=L, T=T, correction_passes=2, correction_share=0.1,
                      correction_by='remasker')
    assert r.calls == 2  # the fill-once schedule uses no remasker: only the two correction passes do
    for step in steps[T - 3:T - 1]:
        assert not step.reread.any()
        kept_before = ~step.masked
        top = torch.where(kept_before, p, -1.0).topk(4).indices  # 10% of 40: the kept tokens ranked highest
        assert set(step.corrected[0].nonzero().flatten().tolist()) == set(top[0].tolist())
    _, info, _ = run('fill_once', remasker=WrongStub(p), B=B, L=L, T=T, correction_passes=2, correction_by='remasker')
    assert (info['passes'] - info['fills']).tolist() == [2] and info['fills'].tolist() == [T]
    with pytest.raises(ValueError, match="correction_by='remasker' needs a remasking model"):
        run('fill_once', correction_passes=2, correction_by='remasker')


def test_self_correction_is_on_by_default_for_a_third_of_the_iterations_and_the_guide_rule_turns_it_off():
    for T, C in ((30, 10), (59, 20), (20, 7), (19, 0), (2, 0), (1, 0)):  # none below 20 iterations
        s = sample.sampling(mode='fill_once', diffusion_iterations=T)
        assert sample.correction_passes_for(s, [1024]) == C and s.correction_by is None
    # by the re-reading, but by the remasker's judgment where the mode reads a remasker that shares the pass
    for mode, shared, by in (('fill_once', True, 'margin'), ('schedule', False, 'margin'),
                             ('schedule', True, 'remasker'), ('mixed', True, 'remasker'),
                             ('threshold', True, 'remasker'), ('random', True, 'margin')):
        assert sample.correction_by_for(sample.sampling(mode=mode, threshold=0.5), shared) == by, (mode, shared)
    assert sample.correction_by_for(sample.sampling(mode='schedule', correction_by='margin'), True) == 'margin'
    s = sample.sampling(mode='fill_once', diffusion_iterations=30)
    assert sample.correction_passes_for(s, [50, 49]) == 0  # 1% of 49 rounds to 0: no token to correct a pass
    assert sample.correction_passes_for(replace(s, correction_passes=4), [8]) == 4  # as set, even so
    assert sample.correction_passes_for(sample.sampling(mode='schedule', **sample.GUIDE_RULE), [1024]) == 0
    steps, _ = stream('fill_once', B=1, L=100, T=21, **RULES['defaults'])  # the knobs' defaults: correction_passes None
    assert steps[0].settings.correction_passes == 7  # the Steps say what ran
    # the last 7 of 21 before the final
    assert [bool(s.reread.any()) for s in steps] == [False] * 13 + [True] * 7 + [False]
    steps, _ = stream('fill_once', B=1, L=40, T=21, **RULES['defaults'])  # 1% of 40 rounds to 0
    assert steps[0].settings.correction_passes == 0 and not any(s.reread.any() for s in steps)


def test_self_correction_in_threshold_mode_counts_each_running_rows_own_share():
    """Regression: with rows of different numbers of positions to generate, the per-row count of
    corrections was the whole batch's while only the rows still running were corrected (a size
    mismatch, or another row's count)."""
    from test_sample import ZeroIsWrong
    B, L = 3, 12
    fixed = torch.full((B, L), -1)
    for b in range(B):
        fixed[b, :2 * b + 1] = 2  # 11, 9 and 7 positions to generate
    u = Recorder(torch.tensor([0.0, 0.0, -math.inf, -math.inf, -math.inf, 0.0, 0.0, 0.0]))  # 0 or 1, evenly
    kw = dict(unmasker=u, B=B, L=L, T=30, seed=1, threshold=0.5, fixed=fixed, correction_passes=28,
              correction_share=0.2, correction_reread=0.5, correction_by='margin')
    plain, _ = stream('threshold', remasker=ZeroIsWrong(), fast=False, **kw)
    fast, _ = stream('threshold', remasker=ZeroIsWrong(), fast=True, **kw)
    converged_at = plain[-1].info['converged_at']
    assert len(set(converged_at.tolist())) > 1  # rows stop at different iterations
    corrected_rows = 0
    for a, b in zip(plain, fast):
        for name, view in views(a).items():
            assert same(view, views(b)[name]), (a.iteration, name)
        for row in range(B):
            if a.ran[row] and not a.converged[row] and a.reread[row].any():
                G = int((fixed[row] < 0).sum())
                assert int(a.corrected[row].sum()) == min(round(0.2 * G), int(a.reread[row].sum()))
                corrected_rows += 1
    assert corrected_rows > B


# -----------------------------------------------------------------------------
# one model that fills and judges: its P([WRONG]) rides on the fill's pass

class FillJudge(torch.nn.Module):
    """A model that fills and judges: at a [MASK] token 0 with P = 1 - p_fresh and token 1 with p_fresh; at a
    token it reads, [WRONG] with P = p_seen and token 0 with the rest. Records its inputs."""

    def __init__(self, p_seen, p_fresh=0.3):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))
        self.p_seen, self.p_fresh, self.inputs = torch.as_tensor(p_seen, dtype=torch.float32), p_fresh, []

    def forward(self, idx):
        self.inputs.append(idx.clone())
        logits = torch.full((*idx.shape, V), -math.inf)
        logits[..., 0] = math.log(1 - self.p_fresh)
        logits[..., 1] = math.log(self.p_fresh)
        seen = idx != MASK
        p = self.p_seen.expand(idx.shape)  # at a seen token: P([WRONG]) = p, the rest on token 0
        logits[..., 0] = torch.where(seen, (1 - p).clamp_min(1e-30).log(), logits[..., 0])
        logits[..., 1] = torch.where(seen, -math.inf, logits[..., 1])
        logits[..., WRONG] = torch.where(seen, p.clamp_min(1e-30).log(), -math.inf)
        return logits, None


@pytest.mark.parametrize('mode', ['schedule', 'mixed', 'threshold'])
def test_a_shared_model_runs_one_pass_an_iteration_and_judges_by_what_it_saw(mode):
    B, L, T = 2, 20, 6
    p = torch.rand(B, L, generator=torch.Generator().manual_seed(0))
    m = FillJudge(p)
    steps, _ = stream(mode, unmasker=m, remasker=m, B=B, L=L, T=T, threshold=0.5, **RULES['defaults'])
    info = steps[-1].info
    assert len(m.inputs) == len(steps) and torch.equal(info['passes'], info['fills'])  # one pass, counted once
    for step, seen in zip(steps, m.inputs):
        if step.last or not step.ran.any():
            continue
        visible = seen != MASK
        if mode != 'threshold':  # a token the pass just filled: 1 - P(that token) ('fill'): 0.3 for 0, 0.7 for 1
            drawn = torch.where(step.tokens == 0, 0.3, 0.7)
            assert torch.allclose(step.score[~visible], drawn[~visible])
        else:  # 'next': not judged yet
            assert (step.score[~visible] == 0).all()
        assert torch.allclose(step.score[visible], p[visible])  # a token it read: its P([WRONG]) from that pass


def test_threshold_mode_by_a_shared_model_converges_only_after_a_pass_that_saw_every_token():
    m = FillJudge(torch.zeros(1, 10))  # nothing it reads is wrong
    steps, _ = stream('threshold', unmasker=m, remasker=m, B=1, L=10, T=6, threshold=0.5)
    assert [s.converged.tolist() for s in steps] == [[False], [True]]  # the first pass filled all, the second saw all
    assert steps[-1].info['converged_at'].tolist() == [2] and not (m.inputs[1] == MASK).any()
    # scored by their fill's 1 - P(token) instead: a draft nobody read converges at once when that is low,
    # and never when it is high (every fresh token is re-masked and drawn again)
    steps, _ = stream('threshold', unmasker=m, remasker=m, B=1, L=10, T=6, threshold=0.4, fresh_score='fill',
                      temperature=0.0)  # token 0 everywhere, 1 - P = 0.3
    assert steps[-1].info['converged_at'].tolist() == [1]
    m = FillJudge(torch.zeros(1, 10), p_fresh=0.5)  # 1 - P = 0.5 whatever it draws
    steps, _ = stream('threshold', unmasker=m, remasker=m, B=1, L=10, T=6, threshold=0.4, fresh_score='fill')
    assert steps[-1].info['iterations'] == 6 and steps[-1].info['converged_at'].tolist() == [-1]


@pytest.mark.parametrize('mode', ['schedule', 'mixed', 'threshold'])
def test_a_shared_models_fast_path_is_its_reference_loop(mode):
    torch.manual_seed(0)
    m = Counting(GPTConfig(block_size=40, vocab_size=V, n_layer=1, n_head=2, n_embd=16)).eval()
    kw = dict(unmasker=m, remasker=m, B=4, L=40, T=8, seed=3, threshold=0.13, fixed=given(4, 40),
              **{**RULES['defaults'], **CORRECTING, 'correction_by': 'remasker'})
    plain, _ = stream(mode, fast=False, **kw)
    fast, _ = stream(mode, fast=True, **kw)
    assert len(plain) == len(fast) >= 2
    for a, b in zip(plain, fast):
        for name, view in views(a).items():
            assert same(view, views(b)[name]), (mode, a.iteration, name)
    assert torch.equal(fast[-1].info['passes'], fast[-1].info['fills'])
