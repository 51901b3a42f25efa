"""
Generate text with a masked diffusion language model and a learned re-masker.

Every sequence starts as all [MASK]. Each iteration the unmasking GPT fills every masked position,
then some positions are re-masked and predicted again. What gets re-masked is the mode's choice:

    random     a schedule's count of positions, at random (no remasking model)
    schedule   the schedule's count with the highest P([WRONG]) under the remasking GPT
    threshold  every position with P([WRONG]) > threshold; stops once no sequence has any
    mixed      the schedule's count, threshold candidates first (by P([WRONG])), then random ones
    confidence (beyond the guide) the schedule's count the unmasking model was least sure of
    fill_once, fill_once_confidence (beyond the guide) each [MASK] filled once and kept, L/T a pass, at
               random (MDLM's sampler) or the most confident (LLaDA's low-confidence rule)

The shipped default model fills and judges: one forward pass fills the [MASK]s and gives P([WRONG])
at the tokens it read, so the guide's modes cost one pass an iteration (judge_phase). How a mode picks
its count goes beyond the guide where measurement said so (RESULTS.md); GUIDE_RULE
(config/sample_guide_rule.py) gives the guide's literal rule.

    $ python sample.py                                    # schedule mode, the shipped model
    $ python sample.py --use_mixed_remasking=True         # mixed mode
    $ python sample.py config/sample_controlled_mixed.py  # a preset; see config/
    $ python sample.py --start="ROMEO." --sequence_length=300         # after a prompt
    $ python sample.py --infill="Creeps in this {5} pace from day to day"  # into a template's holes
    $ python sample.py --live=True --replay=replay.html   # watch it write (watch.py)
    $ python sample.py --help                             # every knob

generate() is importable and takes loaded models: load once, generate many times.
"""

import json
import math
import os
import re
import sys
import time
from dataclasses import asdict, dataclass, fields, replace

import numpy as np
import torch

from configurator import configure, knobs, run_main
from model import (
    DTYPES,
    GPT,
    build_tokenizer,
    load_checkpoint,
    log_normaliser,
    sample_tokens,
    token_probability,
    wrong_probability,
)

# -----------------------------------------------------------------------------
# models
out_dir = 'checkpoints'  # folder the checkpoint names are looked up in (an existing path is used as is)
checkpoint_name = 'ckpt_fill_and_judge.pt'  # the unmasking model (this one judges too)
remasking_checkpoint_name: str | None = 'ckpt_fill_and_judge.pt'  # = checkpoint_name: one pass; None: none
device = 'cuda' if torch.cuda.is_available() else 'cpu'  # 'cpu' | 'cuda' | 'cuda:N'
dtype = 'bfloat16' if torch.cuda.is_available() else 'float32'  # 'float32' | 'bfloat16' | 'float16'
compile = False  # torch.compile the models (pays off for long runs)
# generation
sequence_length = 1024  # tokens a sample; beyond the models' block_size, written window after window
context: int | None = None  # beyond a block: tokens of the text so far a window starts with; None: block // 4
num_samples = 1  # texts to generate
batch_size: int | None = None  # samples generated together; None: 1 on the CPU, 64 on CUDA
diffusion_iterations = 30  # iterations: exact in every mode but threshold, where it is the most
temperature = 1.0  # of the unmasking model's draws; 0: always the likeliest token
seed = 1337  # same seed, device and settings: the same texts
# the mode: the guide's flags (README "Modes"), and two modes beyond the guide that need no remasker
use_intelligent_remasking = True  # choose positions with the remasking model (False: random)
use_mixed_remasking = False  # mixed random+intelligent mode (needs use_intelligent_remasking)
remasking_confidence_threshold: float | None = None  # P([WRONG]) in (0, 1): threshold mode; mixed: 0.01
remasking_schedule = 'linear'  # 'linear' | 'exponential': how the re-mask count falls
start_ratio = 1.0  # re-masked share at the start of the schedule
end_ratio = 0.1  # re-masked share after the next-to-last iteration
use_confidence_remasking = False  # by the unmasker's own confidence (LLaDA); with use_fill_once: its rule
use_fill_once = False  # fill each [MASK] once and keep it, L/T a pass (MDLM's sampler)
# how a mode chooses (beyond the guide; config/sample_guide_rule.py restores the guide's rule)
random_from = 'filled'  # random picks from the positions just 'filled' | from 'all' (the guide)
selection_temperature = 3.0  # draw the N in proportion to score^(1/t); 0: the top N (the guide)
max_remask_kept: float | None = 0.0  # most of the text a choice re-masks from kept tokens; None: any (the guide)
# self-correction (beyond the guide): the last iterations also re-mask the kept tokens that read worst
correction_passes: int | None = None  # how many; None: a third from 20 iterations up; 0: off (the guide)
correction_share = 0.01  # share of the positions to generate re-masked a correction pass
correction_reread = 0.15  # 'margin': share of the kept tokens the unmasking model re-reads a pass
correction_by: str | None = None  # 'margin' (re-reading) | 'remasker' (P([WRONG])); None: see correction_by_for
correction_inside = False  # False: after the mode's schedule | True: inside its last iterations
# given text (beyond the guide; never changed; FILE:path reads it from a file)
start = ''  # a prompt at the start of every sample; FILE:path reads it from a file
infill = ''  # a template: {N} a hole of N tokens, {} up to sequence_length, {{ }} braces; FILE:path too
# output
verbose = True  # progress and a summary on stderr; False: only the texts
out_file: str | None = None  # also append each sample to this file as a JSON line
live: bool | str = False  # watch it write on stderr: True | 'mono' | 'frames' (watch.py)
replay: str | None = None  # write every iteration to this self-contained .html page (watch.py)
replay_samples = 1  # samples the replay page holds (1 to 8)
# -----------------------------------------------------------------------------
_knobs = knobs(globals())  # the names above: what --key=value, config files and --help may touch
_SCHEDULE_DEFAULTS = (remasking_schedule, start_ratio, end_ratio)  # fill-once mode takes no other

MODES = ('random', 'schedule', 'threshold', 'mixed', 'confidence', 'fill_once', 'fill_once_confidence')
FILL_ONCE = ('fill_once', 'fill_once_confidence')  # L/T kept a pass, and a kept token is never re-masked
CONFIDENCE = ('confidence', 'fill_once_confidence')  # scored by the unmasking model's own confidence
SCHEDULES = ('linear', 'exponential')
MIXED_DEFAULT_THRESHOLD = 0.01  # the guide's "moderate" threshold for mixed-mode candidates
GUIDE_RULE = {'random_from': 'all', 'selection_temperature': 0.0, 'max_remask_kept': None,
              'correction_passes': 0}  # the guide's literal choice
CORRECTION_BY = ('margin', 'remasker')  # and None: by the remasker where it shares the fill pass, else 'margin'


def score_name(mode):
    """What a mode's score is: the remasker's P([WRONG]), or 1 - P(token) in the confidence modes."""
    return '1 - P(token)' if mode in CONFIDENCE else 'P([WRONG])'


# -----------------------------------------------------------------------------
# the schedule

def schedule_ratio(p, schedule, start_ratio, end_ratio):
    """Masked share at progress p in [0, 1]: start_ratio at p=0, end_ratio at p=1."""
    if schedule == 'linear':
        return start_ratio - p * (start_ratio - end_ratio)
    if schedule == 'exponential':  # falls fast early, slowly late; same end points
        return start_ratio - (start_ratio - end_ratio) * (1 - math.exp(-2 * p)) / (1 - math.exp(-2))
    raise ValueError(f"unknown remasking_schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")


def remask_counts(sequence_length, iterations, schedule, start_ratio, end_ratio):
    """How many positions to re-mask after each iteration i < T-1 (the last iteration re-masks
    none, so the output holds no [MASK]): round(L * r((i+1)/(T-1)))."""
    T = iterations
    return [round(sequence_length * schedule_ratio((i + 1) / (T - 1), schedule, start_ratio, end_ratio))
            for i in range(T - 1)]


def fill_once_counts(sequence_length, iterations):
    """Fill-once mode's counts: L/T positions kept a pass (to rounding), so the T passes fill L. They
    are the linear schedule from 1 to 1/T: after iteration i, round(L * (1 - (i+1)/T)) stay masked."""
    return remask_counts(sequence_length, iterations, 'linear', 1.0, 1 / iterations)


# -----------------------------------------------------------------------------
# choosing positions: every mode's choice is a top-n of a score per position

def top_n(scores, n):
    """(B, L) bool marking each row's n highest scores; n is an int, or (B,) long counts per row (then
    every row is sorted whole, so that no count has to be read back from the device)."""
    if isinstance(n, int):
        idx = scores.topk(n, dim=-1).indices
        return torch.zeros_like(scores, dtype=torch.bool).scatter_(-1, idx, True)
    idx = scores.argsort(dim=-1, descending=True)  # (B, L), highest first
    first = torch.arange(idx.size(1), device=scores.device) < n[:, None]  # row b keeps its first n[b]
    return torch.zeros_like(scores, dtype=torch.bool).scatter_(-1, idx, first)


def _uniform(like, generator):
    return torch.rand(like.shape, generator=generator, device=like.device)


def ranking(p_wrong, temperature, generator):
    """The order in which schedule, mixed and confidence modes choose (highest first). Temperature 0:
    P([WRONG]) itself, the guide's top-N. Above 0: log P([WRONG]) + temperature * Gumbel noise, whose
    top n is a draw of n positions without replacement in proportion to P([WRONG])^(1/temperature)
    (the Gumbel-top-k trick; large temperatures approach a uniform draw). float64, because float32
    uniforms (24 bits) cut the Gumbel tail off at about 16.6 and P([WRONG]) can be as small as 1e-38."""
    if temperature == 0:
        return p_wrong
    u = torch.rand(p_wrong.shape, generator=generator, device=p_wrong.device, dtype=torch.float64)
    gumbel = -torch.log(-torch.log(u.clamp_min(1e-300)))
    return p_wrong.double().clamp_min(1e-300).log() + temperature * gumbel


# The re-masking modes: each decides which positions to re-mask, (B, L) bool, from the same inputs:
#   p_wrong (B, L) float32 P([WRONG]) or None, rank (B, L) the order to choose in by P([WRONG])
#   (see ranking) or None, n the schedule's count (an int, or (B,) counts per row), threshold, the
#   generator for any randomness, allowed (B, L) bool, the positions it may re-mask at all (the
#   generated ones: never a given token of a prompt or template), choosable (B, L) bool, those of
#   them its choice by P([WRONG]) may take (all allowed ones, the guide's rule, or with
#   max_remask_kept the just-filled ones and a few kept ones), and pool (B, L) bool, those its random
#   part is drawn from (all allowed ones, the guide's rule; or only those this iteration filled:
#   fill-once mode, random_from='filled'). Every decision is per row.

def _random_score(generator, allowed, pool):
    """Uniform in [0, 1) in the pool; below every one of those the other allowed positions (-1),
    and below them the positions never to choose (-inf)."""
    return torch.where(pool, _uniform(pool, generator), torch.where(allowed, -1.0, -math.inf))


def remask_random(p_wrong, rank, n, threshold, generator, allowed, choosable, pool):
    return top_n(_random_score(generator, allowed, pool), n)


def remask_schedule(p_wrong, rank, n, threshold, generator, allowed, choosable, pool):
    return top_n(torch.where(choosable, rank, -math.inf), n)


def remask_threshold(p_wrong, rank, n, threshold, generator, allowed, choosable, pool):
    return (p_wrong > threshold) & allowed


def remask_mixed(p_wrong, rank, n, threshold, generator, allowed, choosable, pool):
    # The candidates (above the threshold) first: the n ranked highest when there are enough, else
    # all of them; the rest of the count at random from the pool (all n when there are none).
    candidate = (p_wrong > threshold) & choosable
    chosen = top_n(torch.where(candidate, rank, -math.inf), n) & candidate
    return top_n(torch.where(chosen, math.inf, _random_score(generator, allowed, pool)), n)


REMASKERS = {'random': remask_random, 'schedule': remask_schedule,
             'threshold': remask_threshold, 'mixed': remask_mixed,
             'confidence': remask_schedule,  # its "P([WRONG])" is 1 - the token's probability when sampled
             'fill_once': remask_random,  # its pool: only the positions just filled, so what was kept stays kept
             'fill_once_confidence': remask_schedule}  # confidence's score; choosable: only the positions just filled
RANKED = ('schedule', 'mixed', 'confidence', 'fill_once_confidence')  # the modes that choose by rank
CAPPED = tuple(m for m in RANKED if m not in FILL_ONCE)  # max_remask_kept's (fill-once never re-masks a kept token)
_USED_BY = {'random_from': ('random', 'mixed'), 'selection_temperature': RANKED,
            'max_remask_kept': CAPPED}  # knobs beyond the guide, the modes that use them
_CORRECTION_KNOBS = ('correction_share', 'correction_reread', 'correction_by', 'correction_inside')
_DEFAULTS = {k: globals()[k] for k in (*_USED_BY, *_CORRECTION_KNOBS)}
RANDOM_FROM = ('all', 'filled')  # where the random part of a count is drawn from (random and mixed modes)
NEEDS_REMASKER = ('schedule', 'threshold', 'mixed')


# -----------------------------------------------------------------------------
# one iteration's steps, used by generate() and by everything in training that imitates it:
# fill (the unmasking model samples every [MASK]), judge (the remasking model's P([WRONG])),
# remask (the mode's choice becomes [MASK] again)

def predict(model, x, rows=None, positions=None, fast=True):
    """A model's logits for x's rows (all if None), at positions (b, n) if given: (b, n or L, V).
    fast: only those rows are run, and a model.GPT projects onto the vocabulary only at those
    positions. Plain (the reference): the whole batch at every position, then the part asked for.
    Both give the same numbers; the fast path skips work whose results nobody reads."""
    if fast:
        active = x if rows is None else x[rows]
        if positions is not None and isinstance(getattr(model, '_orig_mod', model), GPT):
            return model(active, positions=positions)[0]
        logits, _ = model(active)
    else:
        logits, _ = model(x)
        logits = logits if rows is None else logits[rows]
    if positions is not None:
        logits = logits.gather(1, positions[..., None].expand(-1, -1, logits.size(-1)))
    return logits


def fill(unmasker, x, *, mask_token_id, base_vocab_size, temperature, generator, rows=None, positions=None, fast=True):
    """The fill step: a token sampled by the unmasking model at every [MASK] of x's rows (all if None),
    at the temperature (see model.sample_tokens). positions (b, n): where
    the [MASK]s are, when every row has n of them (the model then projects onto the vocabulary there
    only); None: wherever x holds [MASK].
    Returns (the rows filled (b, L), the sampled tokens (b, n or L), the logits they came from)."""
    active = x if rows is None else x[rows]
    logits = predict(unmasker, x, rows, positions, fast)
    tokens = sample_tokens(logits, base_vocab_size, temperature, generator)
    if positions is None:
        return torch.where(active == mask_token_id, tokens, active), tokens, logits
    return active.scatter(1, positions, tokens), tokens, logits


def judge(remasker, x, *, wrong_token_id, rows=None, fast=True):
    """The judge step: the remasking model's P([WRONG]) at every position of x's rows, (b, L) float32."""
    return wrong_probability(predict(remasker, x, rows, None, fast), wrong_token_id)


def remask(x, mode, p_wrong, n, threshold, generator, *, mask_token_id, allowed=None, pool=None, filled=None,
           selection_temperature=0.0, kept_cap=None):
    """The re-mask step: the positions the mode chooses (see REMASKERS) among the allowed ones (b, L)
    bool (None: all), the random part from the pool (None: the allowed ones), become [MASK].
    Modes that choose by rank (RANKED) draw their order at selection_temperature (see ranking), and
    with kept_cap (an int, or (b,) counts per row) take at most that many of the tokens kept by
    earlier iterations, those ranked highest, in all (mixed mode's random part included): the rest
    of their count comes from the positions just filled, filled (b, L) bool. Returns (x re-masked,
    the chosen positions (b, L) bool)."""
    allowed = torch.ones_like(x, dtype=torch.bool) if allowed is None else allowed
    pool = allowed if pool is None else pool & allowed
    rank, choosable = None, allowed
    if mode in RANKED:
        rank = ranking(p_wrong, selection_temperature, generator)
        if kept_cap is not None:
            assert filled is not None, "a cap on re-masking kept tokens needs the positions just filled"
            kept = allowed & ~filled
            choosable = allowed & (filled | top_n(torch.where(kept, rank, -math.inf), kept_cap) & kept)
            pool = pool & choosable  # the cap binds mixed mode's random part too
    chosen = REMASKERS[mode](p_wrong, rank, n, threshold, generator, allowed, choosable, pool)
    return torch.where(chosen, mask_token_id, x), chosen


def mask_positions(x, mask_token_id, n):
    """(b, n) long: the positions of the [MASK]s of each row of x, ascending, when every row has n."""
    return (x == mask_token_id).to(torch.uint8).argsort(dim=1, descending=True, stable=True)[:, :n]


# -----------------------------------------------------------------------------
# given text: a prompt or a template with holes, as the fixed tokens of generate()

def read_text(knob, value):
    """The knob's text, or the file's for FILE:path."""
    if not value.startswith('FILE:'):
        return value
    try:
        with open(value[5:], encoding='utf-8') as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{knob}={value!r}: cannot read {value[5:]}: {e}") from None


def template_pieces(template):
    """A template's pieces, in order: given text (str) and holes, {N} as the int N (tokens to fill)
    and {} as None (the rest of sequence_length, at most once). {{ and }} are literal braces, so no
    real text is ever read as a hole: 'be, or {20}, that' -> ['be, or ', 20, ', that']."""
    pieces, text, i = [], [], 0
    while i < len(template):
        if template.startswith(('{{', '}}'), i):
            text.append(template[i])
            i += 2
            continue
        c = template[i]
        if c == '}':
            raise ValueError(f"infill: a lone '}}' at character {i}; write a literal brace as '}}}}'")
        if c == '{':
            end = template.find('}', i)
            spec = template[i + 1:end] if end >= 0 else None
            if spec is None or not (spec == '' or spec.isdigit() and int(spec) >= 1):
                raise ValueError(f"infill: '{{' at character {i} opens no hole: a hole is {{N}} (N >= 1 tokens) or "
                                 f"{{}} (the rest of sequence_length), and a literal brace is '{{{{'")
            if text:
                pieces.append(''.join(text))
                text = []
            pieces.append(int(spec) if spec else None)
            i = end + 1
            continue
        text.append(c)
        i += 1
    if text:
        pieces.append(''.join(text))
    holes = [p for p in pieces if not isinstance(p, str)]
    if not holes:
        raise ValueError("infill: the template has no hole to fill; mark one with {N} (N tokens) or {} (the rest)")
    if holes.count(None) > 1:
        raise ValueError("infill: {} (the rest of sequence_length) may stand once in a template")
    return pieces


def given_tokens(tokenizer, sequence_length, start='', infill=''):
    """The fixed tokens of a sample, a list of token ids with -1 at the positions to generate: the
    prompt start followed by sequence_length - len(start) to generate, or the template infill (whose
    {} hole stretches to sequence_length; without one the template is the whole sample)."""
    def encode(knob, text):
        try:
            return tokenizer.encode(text)
        except ValueError as e:  # characters outside the vocabulary, named
            raise ValueError(f"{knob}: {e}") from None
    if start and infill:
        raise ValueError("give a prompt (start) or a template (infill), not both")
    if start:
        ids = encode('start', start)
        if len(ids) >= sequence_length:
            raise ValueError(f"start is {len(ids)} tokens, which leaves nothing of sequence_length {sequence_length} "
                             f"to generate; raise sequence_length or shorten the prompt")
        return ids + [-1] * (sequence_length - len(ids))
    pieces = [encode('infill', p) if isinstance(p, str) else p for p in template_pieces(infill)]
    sized = sum(len(p) if isinstance(p, list) else p or 0 for p in pieces)
    rest = sequence_length - sized
    if None in pieces and rest < 1:
        raise ValueError(f"infill: the template's text and sized holes take {sized} tokens, which leaves nothing "
                         f"of sequence_length {sequence_length} for its {{}} hole")
    out = []
    for p in pieces:
        out += p if isinstance(p, list) else [-1] * (rest if p is None else p)
    return out


# -----------------------------------------------------------------------------
# settings

def resolve_mode(use_intelligent_remasking, use_mixed_remasking, remasking_confidence_threshold,
                 remasking_checkpoint_name, use_confidence_remasking=False, use_fill_once=False):
    """The guide's flags -> (mode, threshold). Contradictory flags are errors, never a fallback.
    use_confidence_remasking and use_fill_once (beyond the guide) select confidence and fill-once
    modes, and both together fill-once's low-confidence variant; they use no remasking model."""
    th = remasking_confidence_threshold
    if use_fill_once:
        if use_mixed_remasking or th is not None:
            raise ValueError("use_fill_once=True keeps every token it fills: it takes neither use_mixed_remasking=True "
                             "nor a remasking_confidence_threshold")
        return ('fill_once_confidence' if use_confidence_remasking else 'fill_once'), None
    if use_confidence_remasking:
        if use_mixed_remasking or th is not None:
            raise ValueError("use_confidence_remasking=True re-masks by the unmasking model's confidence on the "
                             "schedule: it takes neither use_mixed_remasking=True nor a remasking_confidence_threshold")
        return 'confidence', None
    if use_mixed_remasking and not use_intelligent_remasking:
        raise ValueError("use_mixed_remasking=True needs use_intelligent_remasking=True "
                         "(mixed mode picks candidates with the remasking model)")
    if not use_intelligent_remasking:
        return 'random', None
    if not remasking_checkpoint_name:
        raise ValueError("intelligent remasking needs a remasking model: set remasking_checkpoint_name, "
                         "or --use_intelligent_remasking=False for random remasking")
    if use_mixed_remasking:
        return 'mixed', MIXED_DEFAULT_THRESHOLD if th is None else th
    return ('schedule', None) if th is None else ('threshold', th)


@dataclass(frozen=True)
class Sampling:
    """How generate() samples, as one record: the mode and the knobs at the top of this file that shape
    generation. Sampling('mixed', threshold=0.02), or dataclasses.replace(settings, temperature=0.9).

    The schedule's count after iteration i < T-1 is round(G * r((i+1)/(T-1))) of a row's G positions
    to generate (remask_counts); the fill-once modes keep G/T a pass instead (fill_once_counts).
    selection_temperature t draws a ranked mode's N in proportion to score^(1/t) (ranking: Gumbel-top-k);
    max_remask_kept caps what a choice takes from tokens kept by earlier iterations (0: only just-filled
    ones), random_from where a random part is drawn from. Self-correction: in C = correction_passes
    iterations (the last before the final fill; after the mode's schedule, which then runs over T - C,
    unless correction_inside), round(correction_share * G) kept tokens are re-masked too: those furthest
    below the likeliest token where the unmasking model re-reads a random correction_reread of them in
    its fill pass ('margin'), or of highest P([WRONG]) ('remasker': in the shared pass it costs nothing,
    else a remasker pass). Why each default is what it is: RESULTS.md."""
    mode: str  # one of MODES
    sequence_length: int = sequence_length
    diffusion_iterations: int = diffusion_iterations
    remasking_schedule: str = remasking_schedule
    start_ratio: float = start_ratio
    end_ratio: float = end_ratio
    threshold: float | None = None  # threshold mode's, and mixed mode's (None there: MIXED_DEFAULT_THRESHOLD)
    temperature: float = temperature
    random_from: str = random_from
    selection_temperature: float = selection_temperature
    max_remask_kept: float | None = max_remask_kept
    correction_passes: int | None = correction_passes  # None: see correction_passes_for
    correction_share: float = correction_share
    correction_reread: float = correction_reread
    correction_by: str = correction_by
    correction_inside: bool = correction_inside
    fresh_score: str | None = None  # one model fills and judges: judge_phase; None: threshold 'next', else 'fill'


SAMPLING_KNOBS = tuple(f.name for f in fields(Sampling)
                       if f.name not in ('mode', 'threshold', 'fresh_score'))  # knobs of the same name


def sampling(settings=None, **knobs):
    """A Sampling from a record and/or keyword knobs (these win), with mixed mode's default threshold
    filled in."""
    s = Sampling(**knobs) if settings is None else replace(settings, **knobs)
    return replace(s, threshold=MIXED_DEFAULT_THRESHOLD) if s.mode == 'mixed' and s.threshold is None else s


# Below this many iterations the default takes no self-correction: the passes are worth more as fills
# (RESULTS.md, "self-correction below 20 iterations": at 10 iterations a third correcting costs 0.36 bits).
CORRECTION_MIN_ITERATIONS = 20


def correction_passes_for(s, to_generate):
    """The self-correction passes of a run by s whose rows have to_generate (a list) positions to
    generate: s.correction_passes as set, or for None a third of the iterations, rounded, and none
    below CORRECTION_MIN_ITERATIONS or where a pass would correct no token (correction_share of the
    fewest positions to generate rounds to 0: a template's hole of a few tokens), so the schedule is
    not shortened for nothing."""
    if s.correction_passes is not None:
        return s.correction_passes
    if s.diffusion_iterations < CORRECTION_MIN_ITERATIONS or round(s.correction_share * min(to_generate)) < 1:
        return 0
    return round(s.diffusion_iterations / 3)


def correction_by_for(s, shared):
    """s.correction_by as set, or for None: 'remasker' in the modes that read the remasking model when it
    shares the fill's pass (its judgment of the kept tokens is then in hand: schedule, threshold and mixed
    mode with a model that fills and judges), else 'margin' (the re-reading; no pass either)."""
    return s.correction_by or ('remasker' if shared and s.mode in NEEDS_REMASKER else 'margin')


def fresh_score_for(s):
    """s.fresh_score as set, or for None: 'next' in threshold mode (a fresh token waits for the next
    pass's judgment), else 'fill' (1 - its fill probability); see judge_phase."""
    return s.fresh_score or ('next' if s.mode == 'threshold' else 'fill')


def _is_number(v, low=-math.inf, high=math.inf, low_open=False):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and (low < v if low_open else low <= v) and v <= high


def check_settings(s, *, batch_size=1, num_samples=1):
    """Raise ValueError naming the knob for any setting of s (a Sampling) that generation cannot honour."""
    if s.mode not in MODES:
        raise ValueError(f"unknown mode {s.mode!r}; choose one of {', '.join(MODES)}")
    if s.remasking_schedule not in SCHEDULES:
        raise ValueError(f"unknown remasking_schedule {s.remasking_schedule!r}; choose one of {', '.join(SCHEDULES)}")
    for name, v in (('sequence_length', s.sequence_length), ('diffusion_iterations', s.diffusion_iterations),
                    ('batch_size', batch_size), ('num_samples', num_samples)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be an integer of at least 1, got {v!r}")
    for name, v in (('start_ratio', s.start_ratio), ('end_ratio', s.end_ratio)):
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{name} must lie in [0, 1], got {v}")
    if s.end_ratio > s.start_ratio:
        raise ValueError(f"end_ratio ({s.end_ratio}) must not exceed start_ratio ({s.start_ratio}): the schedule falls")
    if s.mode in ('threshold', 'mixed') and not (isinstance(s.threshold, (int, float)) and 0.0 < s.threshold < 1.0):
        raise ValueError(f"remasking_confidence_threshold must lie strictly between 0 and 1, got {s.threshold!r}")
    if not (isinstance(s.temperature, (int, float)) and 0.0 <= s.temperature < math.inf):
        raise ValueError(f"temperature must be a finite number >= 0, got {s.temperature!r}")
    if s.random_from not in RANDOM_FROM:
        raise ValueError(f"unknown random_from {s.random_from!r}; choose one of {', '.join(RANDOM_FROM)}")
    if not _is_number(s.selection_temperature, 0.0) or s.selection_temperature == math.inf:
        raise ValueError(f"selection_temperature must be a finite number >= 0, got {s.selection_temperature!r}")
    if s.max_remask_kept is not None and not _is_number(s.max_remask_kept, 0.0, 1.0):
        raise ValueError(f"max_remask_kept must be None (no cap) or a share in [0, 1], got {s.max_remask_kept!r}")
    if s.mode in FILL_ONCE and (s.remasking_schedule, s.start_ratio, s.end_ratio) != _SCHEDULE_DEFAULTS:
        raise ValueError("fill-once mode keeps L/T positions a pass: it takes no remasking_schedule, start_ratio "
                         "or end_ratio (leave them at their defaults)")
    C = s.correction_passes
    if C is not None and (not isinstance(C, int) or isinstance(C, bool) or not 0 <= C < s.diffusion_iterations):
        raise ValueError(f"correction_passes must be None (a third) or an integer from 0 (off) to "
                         f"diffusion_iterations - 1 = {s.diffusion_iterations - 1}, got {C!r}")
    for name, v in (('correction_share', s.correction_share), ('correction_reread', s.correction_reread)):
        if not _is_number(v, 0.0, 1.0, low_open=True):
            raise ValueError(f"{name} must be a share in (0, 1], got {v!r}")
    if s.correction_by is not None and s.correction_by not in CORRECTION_BY:
        raise ValueError(f"unknown correction_by {s.correction_by!r}; choose one of {', '.join(CORRECTION_BY)}")
    if not isinstance(s.correction_inside, bool):
        raise ValueError(f"correction_inside must be True or False, got {s.correction_inside!r}")
    if s.fresh_score not in (None, 'fill', 'next'):
        raise ValueError(f"fresh_score must be None, 'fill' or 'next', got {s.fresh_score!r}")


# -----------------------------------------------------------------------------
# the generation loop: steps() runs it and hands out each iteration as a Step; generate(), the
# verbose lines and the viewers (watch.py) are its consumers

class Step:
    """One iteration of generation, as steps() hands it out. The tensors stay on the models' device;
    the whole-batch views below are made when they are read, so a consumer that reads nothing costs
    nothing: no copy, no host sync.

    iteration, iterations: i (0-based) of T (diffusion_iterations; threshold mode may stop earlier).
    settings: the Sampling it ran with.
    tokens (B, L) long: the text after this iteration's fill (after the last, the output).
    masked (B, L) bool: the positions that were [MASK] before the fill (what it filled).
    remasked (B, L) bool: the positions re-masked after it, corrections included (none after the last).
    corrected (B, L) bool: those of them that self-correction chose.
    reread (B, L) bool: the kept tokens that self-correction masked for this pass and read again.
    score (B, L) float: what the mode chose by: P([WRONG]) (schedule, threshold, mixed) or 1 - the
        token's probability when it was sampled (confidence modes); NaN where there is none.
    read (B, L) float: the re-read tokens' probability under the unmasking model; NaN elsewhere.
    given (B, L) bool: tokens given by a prompt or template (never changed).
    ran (B,) bool: the rows this iteration computed (threshold mode leaves converged rows alone).
    converged (B,) bool: threshold mode's rows with nothing above the threshold, so far.
    last: whether this is the last iteration; then info is generate()'s info, else None.
    """

    def __init__(self, iteration, settings, batch_size, rows, tokens, masked, chosen, corrected, reread, score, read,
                 free, converged, info):
        self.iteration, self.iterations, self.settings = iteration, settings.diffusion_iterations, settings
        self.tokens, self.converged, self.info, self.last = tokens, converged, info, info is not None
        self._B, self._rows, self._free = batch_size, rows, free
        # the rows that ran, (b, L): None where there is nothing of the kind
        self._masked, self._chosen, self._corrected, self._reread = masked, chosen, corrected, reread
        self._score, self._read = score, read

    def _whole(self, part, fill):
        """The (b, L) tensor of the rows that ran as (B, L), fill in the other rows and where part is None."""
        like = self.tokens
        if part is None:
            return torch.full(like.shape, fill, device=like.device, dtype=torch.bool if isinstance(fill, bool) else
                              torch.float32)
        if self._rows is None:
            return part
        out = torch.full(like.shape, fill, device=like.device, dtype=part.dtype)
        out[self._rows] = part
        return out

    masked = property(lambda self: self._whole(self._masked, False))
    remasked = property(lambda self: self._whole(None if self._chosen is None else self._chosen if self._corrected
                                                 is None else self._chosen | self._corrected, False))
    corrected = property(lambda self: self._whole(self._corrected, False))
    reread = property(lambda self: self._whole(self._reread, False))
    score = property(lambda self: self._whole(self._score, math.nan))
    read = property(lambda self: self._whole(self._read, math.nan))
    given = property(lambda self: torch.zeros_like(self.tokens, dtype=torch.bool) if self._free is None
                     else ~self._free)

    @property
    def ran(self):
        ran = torch.zeros(self._B, dtype=torch.bool, device=self.tokens.device)
        return ran.fill_(True) if self._rows is None else ran.index_fill_(0, self._rows, True)


def _log_probabilities(logits, tokens, base_vocab_size):
    """(log P(token), log P(the likeliest token)) under logits (..., V) restricted to the base vocabulary."""
    logits = logits[..., :base_vocab_size]
    lse = log_normaliser(logits)
    return logits.gather(-1, tokens[..., None]).squeeze(-1).float() - lse, logits.max(dim=-1).values.float() - lse


def _reread(logits, current, positions, reread, base_vocab_size):
    """The re-read tokens' log-probabilities (log P(token), log P(likeliest)), each (b, L) with NaN where
    not re-read, from a fill's logits: (b, n, V) at positions (b, n), or (b, L, V) without them."""
    tokens = current.clamp(max=base_vocab_size - 1)  # [MASK] where not re-read: any valid index serves there
    if positions is not None:
        tokens = tokens.gather(1, positions)
    logp, best = _log_probabilities(logits, tokens, base_vocab_size)
    if positions is not None:
        nan = torch.full(current.shape, math.nan, device=current.device)
        logp, best = nan.scatter(1, positions, logp), nan.scatter(1, positions, best)
    return torch.where(reread, logp, math.nan), torch.where(reread, best, math.nan)




def needs_remasker(s):
    """Whether sampling by s runs a remasking model: its mode's choice, or self-correction by it."""
    return s.mode in NEEDS_REMASKER or (s.correction_passes != 0 and s.correction_by == 'remasker')


def _only_new(s, kept_cap):
    """Whether the mode's choice can only take tokens just filled (then a self-correction, which takes
    kept tokens, never overlaps it, and the next iteration's [MASK]s are known in number)."""
    return s.mode in FILL_ONCE or (s.mode == 'random' and s.random_from == 'filled') or \
        (s.mode in CAPPED and kept_cap == 0)


def _per_row(values, device):
    """One int per row -> an int when the rows agree, else (B,) long on the device."""
    return values[0] if len(set(values)) == 1 else torch.tensor(values, device=device)


def _given(fixed, B, L, base_vocab_size, device):
    """fixed checked and on the device, and the positions to generate (B, L) bool; (None, None) if none."""
    if fixed is None:
        return None, None
    fixed = torch.as_tensor(fixed, dtype=torch.long, device=device)
    if fixed.shape != (B, L):
        raise ValueError(f"fixed must be (batch_size, sequence_length) = ({B}, {L}), got {tuple(fixed.shape)}")
    if ((fixed < -1) | (fixed >= base_vocab_size)).any():
        raise ValueError(f"fixed holds -1 (generate) or real token ids below {base_vocab_size}")
    return fixed, fixed < 0


@dataclass
class Plan:
    """What steps() settles before its first iteration (see plan())."""
    s: Sampling  # the settings, correction_passes resolved
    B: int
    L: int
    T: int
    S: int  # the iterations the mode's schedule runs over (T, or T - C when self-correction comes after it)
    C: int  # self-correction passes, in iterations T-1-C .. T-2
    free: torch.Tensor | None  # (B, L) bool, the positions to generate; None: all
    to_generate: list  # G of each row
    same: bool  # every row has the same G, so every count is one int
    counts: object  # the [MASK]s the mode leaves before iteration i: a list, or (T, B) long; None in threshold mode
    kept_cap: object  # max_remask_kept as a count: None, an int or (B,) long
    to_correct: object  # self-correction's re-masks a pass: an int or (B,) long
    only_new: bool  # the mode's choice takes only just-filled tokens (see _only_new)
    shared: bool  # one model fills and judges: its P([WRONG]) rides on the fill pass
    fresh: str  # shared: how the tokens a pass just filled are scored ('fill' or 'next', see judge_phase)
    device: torch.device


def plan(s, unmasking_model, remasking_model, *, batch_size, base_vocab_size, fixed, generator):
    """1) plan: the counts, caps and corrections of a run by the Sampling s, and its given tokens."""
    check_settings(s, batch_size=batch_size)
    device = _device(unmasking_model, generator)
    B, L, T = batch_size, s.sequence_length, s.diffusion_iterations
    fixed, free = _given(fixed, B, L, base_vocab_size, device)
    to_generate = [L] * B if free is None else free.sum(dim=1).tolist()
    if min(to_generate) < 1:
        raise ValueError("every row needs a position to generate: fixed gives every token of one")
    C = correction_passes_for(s, to_generate)
    shared = remasking_model is not None and remasking_model is unmasking_model
    s = replace(s, correction_passes=C, correction_by=correction_by_for(s, shared))  # the Steps say what ran
    if needs_remasker(s) and remasking_model is None:
        raise ValueError(f"{s.mode} mode needs a remasking model" if s.mode in NEEDS_REMASKER else
                         "correction_by='remasker' needs a remasking model")
    same = len(set(to_generate)) == 1
    # After the schedule (the default), the mode's schedule runs over the first S = T - C iterations, so
    # that its last one is the first correction.
    S = T - C if C and not s.correction_inside and s.mode != 'threshold' else T
    counts = None
    if s.mode != 'threshold':
        rule = (lambda g: fill_once_counts(g, S)) if s.mode in FILL_ONCE else \
            (lambda g: remask_counts(g, S, s.remasking_schedule, s.start_ratio, s.end_ratio))
        table = [[g] + rule(g) + [0] * (T - S) for g in to_generate]
        counts = table[0] if same else torch.tensor(table, device=device).T  # (T, B)
    kept_cap = None
    if s.mode == 'fill_once_confidence':
        kept_cap = 0  # nothing kept is re-masked
    elif s.max_remask_kept is not None and s.mode in CAPPED:
        kept_cap = _per_row([round(s.max_remask_kept * g) for g in to_generate], device)
    to_correct = _per_row([round(s.correction_share * g) for g in to_generate], device) if C else 0
    fresh = fresh_score_for(s)
    p = Plan(s, B, L, T, S, C, free, to_generate, same, counts, kept_cap, to_correct, _only_new(s, kept_cap), shared,
             fresh, device)
    x = torch.full((B, L), -1, dtype=torch.long, device=device) if fixed is None else fixed
    return p, x


class Run:
    """What changes from one iteration to the next."""

    def __init__(self, p, x, mask_token_id):
        B, L = p.B, p.L
        self.x = torch.where(x < 0, mask_token_id, x)  # (B, L) the text, [MASK] where still to fill
        self.confidence = torch.zeros(B, L, device=p.device)  # confidence modes: each token's P when sampled
        self.converged = torch.zeros(B, dtype=torch.bool, device=p.device)
        self.converged_at = torch.full((B,), -1, dtype=torch.long, device=p.device)
        self.passes = torch.zeros(3, B, dtype=torch.long, device=p.device)  # fills, remasker passes, positions
        self.rows = None  # threshold mode: the rows still generating (None: all); only they are computed
        self.finite = torch.ones((), dtype=torch.bool, device=p.device)  # NaN check without a sync an iteration
        self.corrections = 0  # [MASK]s the last self-correction left, when known in number before the run (else None)

    def info(self, i):
        fills, judged, positions = self.passes
        return {'iterations': i + 1, 'converged_at': self.converged_at, 'passes': fills + judged, 'fills': fills,
                'fill_positions': positions}


@dataclass
class Filled:
    """One iteration's fill (fill_phase), for the phases after it; (b, L) over the rows that ran."""
    current: torch.Tensor  # the text before the fill
    masked: torch.Tensor  # its [MASK]s: what the fill filled
    allowed: object  # the positions to generate, or None: all
    kept: torch.Tensor  # the generated tokens kept from earlier iterations
    active: torch.Tensor  # the text after the fill (re-read tokens restored), then re-masked by the phases after it
    text: torch.Tensor  # the text after the fill, as it stays
    logits: torch.Tensor  # (b, n or L, V)
    model_input: torch.Tensor  # (b, L) what the model read: [MASK]s and re-read positions masked
    positions: object  # (b, n) where the logits are, or None: everywhere
    n_masked: object  # the [MASK]s of every row, when known in number (an int), else None
    reread: object = None  # (b, L) bool, self-correction's re-read tokens, or None
    n_read: object = 0  # how many a row re-reads: an int or (b,) long
    read: object = None  # (b, L) log P(re-read token), NaN elsewhere
    best: object = None  # (b, L) log P(likeliest token) at the re-read positions, NaN elsewhere


def _correcting(p, i):
    return p.C and p.T - 1 - p.C <= i < p.T - 1


def _choosing(p, i):
    """Whether the mode's schedule still chooses positions to re-mask after iteration i's fill."""
    return i < p.S - 1 or p.s.mode == 'threshold'


def _judging(p, i):
    """Whether iteration i asks for P([WRONG]) (a shared pass then reads it off every position)."""
    if i == p.T - 1:
        return False
    by_mode = _choosing(p, i) and p.s.mode in NEEDS_REMASKER
    return by_mode or bool(_correcting(p, i)) and p.s.correction_by == 'remasker'


def fill_phase(p, run, i, unmasker, sampler, mask_token_id, base_vocab_size, fast):
    """2) fill: the unmasking model samples every [MASK] (self-correction masks and re-reads a share of
    the kept tokens in the same pass)."""
    rows, g = run.rows, sampler['generator']
    current = run.x if rows is None else run.x[rows]  # (b, L)
    masked = current == mask_token_id
    allowed = None if p.free is None else p.free if rows is None else p.free[rows]
    kept = ~masked if allowed is None else allowed & ~masked
    # Outside threshold mode, when every row has the same number n of [MASK]s (its G, then the schedule's
    # counts and the corrections), the model is asked for logits there only, (b, n, V): a static shape.
    known = p.same and p.counts is not None and run.corrections is not None
    n_masked = p.counts[i] + run.corrections if known else None
    reread, n_read, model_input = None, 0, run.x
    if _correcting(p, i) and p.s.correction_by != 'remasker':  # mask a share of the kept tokens for this pass
        n_read = round(p.s.correction_reread * (p.to_generate[0] - n_masked)) if n_masked is not None else \
            (p.s.correction_reread * kept.sum(dim=1).double()).round().long()  # float64, rounded as Python rounds
        reread = top_n(torch.where(kept, _uniform(kept, g), -1.0), n_read) & kept
        model_input = _put(run.x, rows, torch.where(reread, mask_token_id, current))
    everywhere = n_masked is None or p.shared and _judging(p, i)  # a shared pass judges every position
    positions = None if everywhere else mask_positions(model_input, mask_token_id, n_masked + n_read)
    active, sampled, logits = fill(unmasker, model_input, rows=rows, positions=positions, fast=fast,
                                   mask_token_id=mask_token_id, base_vocab_size=base_vocab_size, **sampler)
    ran = slice(None) if rows is None or not fast else rows  # the rows the models ran over
    run.passes[0, ran] += 1
    run.passes[2, ran] += p.L if positions is None or not fast else positions.size(1)
    run.finite &= (sampled < base_vocab_size).all()  # sample_tokens' mark of NaN logits
    read = best = None
    if reread is not None:
        active = torch.where(reread, current, active)  # a re-read token stays: only its probability is read
        read, best = _reread(logits, current, positions, reread, base_vocab_size)
    f = Filled(current, masked, allowed, kept, active, active, logits,
               model_input if rows is None else model_input[rows], positions, n_masked, reread, n_read, read, best)
    if p.s.mode in CONFIDENCE:  # each new token's probability when it was sampled
        sampled_with = token_probability(logits[..., :base_vocab_size], sampled.clamp(max=base_vocab_size - 1))
        run.confidence = torch.where(masked, sampled_with if positions is None else
                                     run.confidence.scatter(1, positions, sampled_with), run.confidence)
    run.x = _put(run.x, rows, f.active)
    return f


def judge_phase(p, run, f, remasker, wrong_token_id, base_vocab_size, mask_token_id, fast):
    """3) judge: P([WRONG]) at every position of the rows that ran, (b, L) float32. A remasking model of
    its own reads the text after the fill in a pass of its own. A model that fills and judges has read
    it already, in the fill's pass: there P([WRONG]) is read off the positions it saw, and a position it
    could not see (filled, or re-read, in this pass) is scored by the pass's own probability of the
    token it now holds, 1 - P(token) (p.fresh 'fill'), or not yet (0: 'next', the next pass judges it)."""
    if p.shared:
        p_wrong = wrong_probability(f.logits, wrong_token_id)
        unseen = f.model_input == mask_token_id
        fresh = torch.zeros_like(p_wrong) if p.fresh == 'next' else \
            1 - token_probability(f.logits[..., :base_vocab_size], f.text.clamp(max=base_vocab_size - 1))
        p_wrong = torch.where(unseen, fresh, p_wrong)
    else:
        p_wrong = judge(remasker, run.x, wrong_token_id=wrong_token_id, rows=run.rows, fast=fast)
        run.passes[1, slice(None) if run.rows is None or not fast else run.rows] += 1
    run.finite &= ~p_wrong.isnan().any()  # NaN wherever the logits hold one
    return p_wrong


def choose_phase(p, run, f, i, score, generator, mask_token_id):
    """4) choose: the mode's re-masked positions (b, L) bool, and in threshold mode the rows that
    converged with this iteration ((b,) bool, else None). f.active becomes the text re-masked."""
    chosen, newly = torch.zeros_like(f.masked), None
    if _choosing(p, i):
        pool = f.masked if p.s.mode == 'fill_once' or p.s.random_from == 'filled' else None  # the random part's
        f.active, chosen = remask(f.active, p.s.mode, score, None if p.counts is None else p.counts[i + 1],
                                  p.s.threshold, generator, allowed=f.allowed, pool=pool, filled=f.masked,
                                  selection_temperature=p.s.selection_temperature, kept_cap=p.kept_cap,
                                  mask_token_id=mask_token_id)
    if p.s.mode == 'threshold':  # a row with nothing above the threshold has converged: it is done
        newly = ~chosen.any(dim=-1)
        if p.shared and p.fresh == 'next':  # and only once a pass has seen every token of it
            newly &= ~(f.model_input == mask_token_id).any(dim=-1)
        at = torch.arange(p.B, device=p.device) if run.rows is None else run.rows
        run.converged_at = run.converged_at.index_put((at,), torch.where(newly, i + 1, run.converged_at[at]))
        run.converged = run.converged.index_put((at,), newly)
    return chosen, newly


def correct_phase(p, run, f, i, score, chosen, newly, judged, generator, mask_token_id):
    """5) correct: in self-correction's passes, the worst of the re-read (or judged) kept tokens are
    re-masked too, to be drawn again by the next pass; (b, L) bool, or None in other passes."""
    if not _correcting(p, i):
        run.corrections = 0
        return None
    if f.reread is None:  # by the remasker: every kept token is a candidate, ranked by its P([WRONG])
        rank = score if score is not None and p.s.mode not in CONFIDENCE else judged()
        pool = f.kept
        n_pool = p.to_generate[0] - f.n_masked if f.n_masked is not None else f.kept.sum(dim=1)
    else:
        pool, n_pool = f.reread, f.n_read
        rank = f.best - f.read  # the margin: how far below the likeliest token there (a valid rare token, as
        # likely as the others there, goes last)
    candidates = pool & ~chosen if newly is None else pool & ~chosen & ~newly[:, None]
    wanted = p.to_correct if isinstance(p.to_correct, int) or run.rows is None else p.to_correct[run.rows]
    n = min(wanted, n_pool) if isinstance(wanted, int) and isinstance(n_pool, int) else \
        torch.minimum(torch.as_tensor(wanted, device=p.device), torch.as_tensor(n_pool, device=p.device))
    corrected = top_n(torch.where(candidates, rank, -math.inf), n) & candidates
    f.active = torch.where(corrected, mask_token_id, f.active)
    run.corrections = n if isinstance(n, int) and (p.only_new or i >= p.S - 1) else None
    return corrected


@torch.no_grad()
def steps(unmasking_model, remasking_model=None, settings=None, *, batch_size, base_vocab_size, mask_token_id,
          wrong_token_id, fixed=None, generator=None, fast=True, **knobs):
    """generate()'s loop, one iteration at a time: a Python generator of Step records, one per iteration
    as it happens (the arguments are generate()'s). The last Step's tokens are the output and its info
    generate()'s; a NaN in the models' logits is raised after it."""
    p, x = plan(sampling(settings, **knobs), unmasking_model, remasking_model, batch_size=batch_size,
                base_vocab_size=base_vocab_size, fixed=fixed, generator=generator)  # 1) plan
    run = Run(p, x, mask_token_id)
    s = p.s
    sampler = dict(temperature=s.temperature, generator=generator)
    for i in range(p.T):
        f = fill_phase(p, run, i, unmasking_model, sampler, mask_token_id, base_vocab_size, fast)  # 2) fill
        filled = run.x  # the text after this fill, for the Step
        if i == p.T - 1:  # the last iteration never re-masks: the output holds no [MASK]
            yield Step(i, s, p.B, run.rows, filled, f.masked, None, None, None, None, None, p.free, run.converged,
                       run.info(i))
            break
        judged = lambda: judge_phase(p, run, f, remasking_model, wrong_token_id, base_vocab_size,  # noqa: E731
                                     mask_token_id, fast)
        score = None  # 3) judge: what the mode chooses by
        if _choosing(p, i) and s.mode in CONFIDENCE:
            score = 1 - run.confidence if run.rows is None else 1 - run.confidence[run.rows]
        elif _choosing(p, i) and s.mode in NEEDS_REMASKER:
            score = judged()
        chosen, newly = choose_phase(p, run, f, i, score, generator, mask_token_id)  # 4) choose
        corrected = correct_phase(p, run, f, i, score, chosen, newly, judged, generator, mask_token_id)  # 5) correct
        run.x = _put(run.x, run.rows, f.active)
        still = (~run.converged).nonzero().squeeze(1) if s.mode == 'threshold' else None  # the one host sync
        done = still is not None and still.numel() == 0  # every row has converged: this was the last iteration
        yield Step(i, s, p.B, run.rows, filled, f.masked, chosen, corrected, f.reread, score,  # 6) hand out
                   None if f.read is None else f.read.exp(), p.free, run.converged, run.info(i) if done else None)
        if done:
            break
        run.rows = still if still is not None else run.rows
    if not bool(run.finite):
        raise ValueError("a model produced NaN logits: its weights may be corrupt, or float16 overflowed "
                         "(try --dtype=float32)")


@torch.no_grad()
def generate(unmasking_model, remasking_model=None, settings=None, *, batch_size, base_vocab_size, mask_token_id,
             wrong_token_id, fixed=None, generator=None, log=None, watch=None, fast=True, **knobs):
    """Generate batch_size sequences by iterative unmasking and re-masking: steps() run to its end.
    How is a Sampling record (settings), keyword knobs of the same names, or both (the knobs win);
    unset knobs take the defaults at the top of this file (Sampling says what each does).

    unmasking_model, remasking_model: callables idx (B, L) -> (logits (B, L, V), _), like model.GPT.
        The remasking model is read by schedule, threshold and mixed mode (and correction_by=
        'remasker'); the very same object as the unmasking model fills and judges in one pass.
    fixed: (B, L) long, the given tokens (a prompt, a template's text) at their positions and -1 where a
        token is to be generated, each row its own; None: generate every position. Given tokens are
        never changed or re-masked, the models read them, and every count applies to the rest.
    base_vocab_size: tokens below it are real tokens; only those are ever sampled.
    mask_token_id, wrong_token_id: the [MASK] and [WRONG] ids of both models.
    generator: a torch.Generator on the models' device, for reproducible samples.
    log: a callable taking a line of text: each iteration's statistics (a host sync each).
    watch: a callable taking each iteration's Step as it happens (the live view, the replay page).
    fast: skip the work nobody reads (logits at unmasked positions, rows that have converged); False
        runs the plain reference loop, which gives the same tokens and the same Steps.

    Returns (tokens (B, L) long with no special id in them, info): 'iterations' run; 'converged_at'
    (B,), the 1-based iteration after which threshold mode found nothing above the threshold, or -1;
    'passes' (B,), the forward passes over each row (a pass that fills and judges counts once);
    'fills' (B,), those of them that filled; 'fill_positions' (B,), the positions at which the
    unmasking model projected onto the vocabulary, over all its passes.
    """
    for step in steps(unmasking_model, remasking_model, settings, batch_size=batch_size,
                      base_vocab_size=base_vocab_size, mask_token_id=mask_token_id, wrong_token_id=wrong_token_id,
                      fixed=fixed, generator=generator, fast=fast, **knobs):
        if log:
            log(iteration_line(step))
        if watch is not None:
            watch(step)
    return step.tokens, step.info


def _device(model, generator):
    """Where generation runs: the model's parameters' device, else the generator's, else the CPU."""
    if isinstance(model, torch.nn.Module):
        return next(model.parameters()).device
    return generator.device if generator is not None else torch.device('cpu')


def _put(x, rows, values):
    """x with its rows (all if None) replaced by values."""
    if rows is None:
        return values
    x = x.clone()
    x[rows] = values
    return x


def iteration_line(step):
    """The verbose line of one iteration (a host sync per number in it)."""
    s, masked, p_wrong, chosen = step.settings, step._masked, step._score, step._chosen
    line = f"iter {step.iteration + 1:>3}/{step.iterations}: filled {masked.sum().item():>6} masked positions"
    if chosen is None:
        return line + "; done"
    if p_wrong is not None:
        allowed = None if step._free is None else step._free if step._rows is None else step._free[step._rows]
        active = p_wrong if allowed is None else p_wrong[allowed]  # the generated positions only
        what = score_name(s.mode)
        if active.numel():
            line += (f" | {what} min {active.min().item():.2e} mean {active.mean().item():.2e} "
                     f"max {active.max().item():.2e}")
    remasked = chosen if step._corrected is None else chosen | step._corrected
    line += f" | re-masked {remasked.sum().item():>6}"
    if s.mode == 'mixed' and p_wrong is not None:
        by_threshold = (chosen & (p_wrong > s.threshold)).sum().item()
        line += f" ({by_threshold} by threshold, {chosen.sum().item() - by_threshold} at random)"
    if step._corrected is not None:
        line += f" ({step._corrected.sum().item()} corrected" + \
            (f" of {step._reread.sum().item()} re-read)" if step._reread is not None else " by the remasker)")
    if s.mode == 'threshold':
        line += f" | converged {step.converged.sum().item()}/{step.converged.numel()}"
    return line


# -----------------------------------------------------------------------------
# text longer than the models' block: window after window, each carrying the text before it

def window_lengths(length, block_size, context, prompt_length=0):
    """The windows that write a text of `length` tokens after a prompt of prompt_length: a list of
    (given, new), the tokens each window reads as given context (the last ones written, or the
    prompt) and the tokens it writes. The first window holds the prompt whole when it fits in a
    block (as a prompt always did), else only its last `context` tokens; every later window
    begins with the last `context` tokens so far; the last is as long as what is left. A length
    beyond a block needs 0 < context < block_size (ValueError)."""
    if length > block_size and not (isinstance(context, int) and not isinstance(context, bool) and
                                    0 < context < block_size):
        raise ValueError(f"context must be an integer from 1 to the models' block_size - 1 = {block_size - 1} (each "
                         f"window begins with context tokens of the text so far), got {context!r}")
    windows, written = [], prompt_length
    while written < length:
        given = written if not windows and written < block_size else min(context, written)
        new = min(block_size - given, length - written)
        windows.append((given, new))
        written += new
    return windows


def generate_text(unmasking_model, remasking_model=None, settings=None, *, batch_size, block_size, context,
                  base_vocab_size, mask_token_id, wrong_token_id, fixed=None, generator=None, log=None, watch=None,
                  progress=None, fast=True, **knobs):
    """generate() for a sequence_length of any size. Up to block_size it is one call of generate(),
    token for token. Longer, the text is written window after window (window_lengths): each window
    is a generate() call in the same mode, with the same schedule, counts and knobs, over its given
    context (never changed, read as a prompt is) and its new positions; so threshold mode converges
    window by window. fixed may then only be a prompt: each row's given tokens first, the same
    number in every row (a template longer than a block is refused). progress(k, n, written, info)
    is called after window k of n (1-based) with the tokens written so far. Returns (tokens (B, L),
    info) with info's counts summed over the windows, 'iterations' a list (one per window) and
    'converged_at' (B, windows) for more than one window; otherwise generate()'s info as it is."""
    s = sampling(settings, **knobs)
    L = s.sequence_length
    ids = dict(base_vocab_size=base_vocab_size, mask_token_id=mask_token_id, wrong_token_id=wrong_token_id)
    run = dict(batch_size=batch_size, generator=generator, log=log, watch=watch, fast=fast, **ids)
    if L <= block_size:
        tokens, info = generate(unmasking_model, remasking_model, s, fixed=fixed, **run)
        if progress:
            progress(1, 1, tokens, info)
        return tokens, info
    prompt = None
    if fixed is not None:
        fixed = torch.as_tensor(fixed, dtype=torch.long)
        given = (fixed >= 0).sum(dim=1)
        P = int(given[0])
        if fixed.shape != (batch_size, L) or (given != P).any() or (fixed[:, :P] < 0).any():
            raise ValueError(f"a text longer than block_size {block_size} takes only a prompt: the given tokens "
                             f"first and the same number in every row, not a template with holes")
        prompt = fixed[:, :P]
    device = _device(unmasking_model, generator)
    text = torch.empty(batch_size, 0, dtype=torch.long, device=device) if prompt is None else prompt.to(device)
    plan = window_lengths(L, block_size, context, text.size(1))  # checks context
    infos = []
    for k, (given, new) in enumerate(plan):
        window_fixed = None if given == 0 else \
            torch.cat([text[:, text.size(1) - given:], torch.full((batch_size, new), -1, device=device)], dim=1)
        tokens, info = generate(unmasking_model, remasking_model, replace(s, sequence_length=given + new),
                                fixed=window_fixed, **run)
        text = torch.cat([text, tokens[:, given:]], dim=1)
        infos.append(info)
        if progress:
            progress(k + 1, len(plan), text, info)
    total = {key: sum(i[key] for i in infos) for key in ('passes', 'fills', 'fill_positions')}
    return text, {'iterations': [i['iterations'] for i in infos], 'windows': len(plan),
                  'converged_at': torch.stack([i['converged_at'] for i in infos], dim=1), **total}


# -----------------------------------------------------------------------------
# the script

def describe(s, C, shared=False):
    """The startup line's account of how s (a Sampling, C its self-correction passes) chooses; shared:
    one model fills and judges."""
    sched = f"{s.remasking_schedule} schedule {s.start_ratio} -> {s.end_ratio}"
    T = s.diffusion_iterations
    S = T - (0 if s.correction_inside or s.mode == 'threshold' else C)  # the schedule's iterations
    desc = {'random': f"random re-masking, {sched}",
            'schedule': f"{'top-N' if s.selection_temperature == 0 else 'N'} by P([WRONG]), {sched}",
            'threshold': f"every position with P([WRONG]) > {s.threshold}, early stop on convergence",
            'mixed': f"{sched}, candidates with P([WRONG]) > {s.threshold} first, then random",
            'confidence': f"beyond the guide: the unmasking model's least confident tokens, {sched}; "
                          f"no remasking model",
            'fill_once': f"beyond the guide: each [MASK] filled once and kept, 1/{S} of them a pass in random order; "
                         f"no remasking model",
            'fill_once_confidence': f"beyond the guide: each [MASK] filled once and kept, 1/{S} of them a pass, the "
                                    f"unmasking model's most confident; no remasking model"}[s.mode]
    if s.mode in ('random', 'mixed') and s.random_from == 'filled':
        desc += "; its random part from the positions just filled"
    if s.mode in RANKED and s.selection_temperature > 0:
        score = '(1 - P(token))' if s.mode in CONFIDENCE else score_name(s.mode)
        desc += f"; the re-masked drawn in proportion to {score}^(1/{s.selection_temperature:g})"
    if s.mode in CAPPED and s.max_remask_kept == 0:
        desc += "; only from the tokens just filled (a kept token stays)"
    elif s.mode in CAPPED and s.max_remask_kept is not None:
        desc += f"; at most {s.max_remask_kept:g} of the positions to generate re-masked from tokens kept earlier"
    if C:
        what = f"{s.correction_share:g} of the text a pass, " + (
            "the kept tokens of highest P([WRONG])" if s.correction_by == 'remasker' else
            f"re-reading {s.correction_reread:g} of the kept tokens, by {s.correction_by}")
        where = f"in the last {C} iterations" + (f", after the schedule ends at iteration {S}" if S < T else '') + (
            " of a sequence not converged by then" if s.mode == 'threshold' else '')
        desc += f"; self-correction {where}: {what}"
    if needs_remasker(s) and s.mode not in NEEDS_REMASKER:  # its self-correction runs one
        desc = desc.replace('; no remasking model', '')
    if shared and s.mode in NEEDS_REMASKER:
        fresh = fresh_score_for(s)
        desc += ("; one pass fills and judges: what it fills is scored by 1 - P(token), what it read by P([WRONG])"
                 if fresh == 'fill' else "; one pass fills and judges: what it fills waits for the next pass's "
                                         "judgment, what it read is scored by P([WRONG])")
    return desc


def resolve_checkpoint(name, out_dir):
    """A path to an existing file is used as is; otherwise the name is looked up in out_dir."""
    return name if os.path.isfile(name) else os.path.join(out_dir, name)


def shares_pass(checkpoint_name, remasking_checkpoint_name, out_dir):
    """Whether the two knobs name one file: then one model fills and judges, in one pass an iteration."""
    a, b = (os.path.realpath(resolve_checkpoint(n, out_dir)) for n in (checkpoint_name, remasking_checkpoint_name))
    return a == b


def check_device(device, dtype):
    if not re.fullmatch(r"cpu|cuda(:\d+)?", device):
        raise ValueError(f"unknown device {device!r}; use 'cpu', 'cuda' or 'cuda:N'")
    if device.startswith('cuda'):
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} but CUDA is not available here; use --device=cpu")
        index = int(device.split(':')[1]) if ':' in device else 0
        if index >= torch.cuda.device_count():
            raise ValueError(f"device={device!r} but there are only {torch.cuda.device_count()} CUDA devices")
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}")


def check_compatible(u, r):
    """The remasker r must suit the unmasker u: same architecture, vocabulary and tokenizer."""
    diffs = []
    ua, ra = u['model_args'], r['model_args']
    for k in sorted(set(ua) | set(ra)):
        if k != 'dropout' and ua.get(k) != ra.get(k):
            diffs.append(f"{k} {ua.get(k)!r} vs {ra.get(k)!r}")
    for k in ('base_vocab_size', 'mask_token_id', 'wrong_token_id'):
        if u[k] != r[k]:
            diffs.append(f"{k} {u[k]!r} vs {r[k]!r}")
    if u['tokenizer'] != r['tokenizer']:
        diffs.append("tokenizer (different vocabularies)")
    if diffs:
        raise ValueError(f"checkpoints {u['path']} and {r['path']} are incompatible: " + '; '.join(diffs)
                         + f"; pair the unmasker with a remasking model trained beside it, or sample without one: "
                           f"python sample.py config/sample_self_correction.py --checkpoint_name={u['path']}")


def _a(words):
    return f"{'an' if words[0] in 'aeiou' else 'a'} {words}"


FILLS = ('unmasking', 'fill_and_judge')  # the training types that fill [MASK]s
JUDGES = ('remasking', 'fill_and_judge')  # those that judge with [WRONG]


def load_model(name, training_types, knob, *, out_dir, device, dtype):
    """The checkpoint `name` (a path, or a file in out_dir) as a model of one of training_types, in eval
    mode on device and dtype (a name of DTYPES), and its info; an error names the knob that chose it."""
    model, info = load_checkpoint(resolve_checkpoint(name, out_dir), device, DTYPES[dtype])
    if info['training_type'] not in training_types:
        raise ValueError(f"{info['path']} is {_a(info['training_type'])} model; {knob} must name "
                         f"{_a(' or '.join(training_types))} model")
    return model, info


def load_models(checkpoint_name, remasking_checkpoint_name=None, *, out_dir, device, dtype, sequence_length,
                windowed=False):
    """The unmasking model and, if named, a remasking model that suits it, checked as sample.py checks
    them (their training types, that they agree, that sequence_length fits in a block unless
    windowed): (unmasker, its info, remasker or None, its info or None). bench.py and eval.py load
    through here too."""
    unmasker, u = load_model(checkpoint_name, FILLS, 'checkpoint_name', out_dir=out_dir, device=device, dtype=dtype)
    remasker = r = None
    if remasking_checkpoint_name and shares_pass(checkpoint_name, remasking_checkpoint_name, out_dir):
        if u['training_type'] != 'fill_and_judge':
            raise ValueError(f"remasking_checkpoint_name names the unmasking model {u['path']}, which judges nothing "
                             f"(an unmasking model); name a remasking or a fill_and_judge model")
        remasker, r = unmasker, u  # one model: it judges in the pass that fills
    elif remasking_checkpoint_name:
        remasker, r = load_model(remasking_checkpoint_name, JUDGES, 'remasking_checkpoint_name',
                                 out_dir=out_dir, device=device, dtype=dtype)
        check_compatible(u, r)
    block_size = u['model_args']['block_size']
    if sequence_length > block_size and not windowed:
        raise ValueError(f"sequence_length {sequence_length} exceeds the models' block_size {block_size}")
    return unmasker, u, remasker, r


def batch_seed(seed, batch_index):
    """A seed for each batch, so a batch's texts do not depend on which batches ran before it."""
    return int(np.random.SeedSequence([seed, batch_index]).generate_state(1, np.uint64)[0] >> 1)


def distributed_setup(device):
    """Under torchrun (RANK set): join the process group and return (rank, world size, this
    process's device: cuda:LOCAL_RANK for 'cuda'). Otherwise (0, 1, device)."""
    if int(os.environ.get('RANK', -1)) == -1:
        return 0, 1, device
    rank, local_rank, world = (int(os.environ[k]) for k in ('RANK', 'LOCAL_RANK', 'WORLD_SIZE'))
    if device.startswith('cuda'):
        device = f'cuda:{local_rank}'
        torch.cuda.set_device(device)
    # the processes exchange only the finished texts, Python objects, so gloo serves on GPUs too: no
    # NCCL communicator to set up, no copy of the pickled texts through GPU memory
    torch.distributed.init_process_group(backend='gloo')
    return rank, world, device


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, with the one line that says what was kept (configurator.run_main prints it, exit 130)."""


def check_knobs():
    """Every knob's value checked, whether or not this run uses it, before anything loads (ValueError);
    returns the mode's Sampling."""
    mode, threshold = resolve_mode(use_intelligent_remasking, use_mixed_remasking, remasking_confidence_threshold,
                                   remasking_checkpoint_name, use_confidence_remasking, use_fill_once)
    settings = sampling(mode=mode, threshold=threshold, **{k: globals()[k] for k in SAMPLING_KNOBS})
    check_device(device, dtype)
    check_settings(settings, batch_size=1 if batch_size is None else batch_size, num_samples=num_samples)
    if context is not None and (not isinstance(context, int) or isinstance(context, bool) or context < 1):
        raise ValueError(f"context must be None (a quarter of the models' block_size) or a number of tokens of at "
                         f"least 1, got {context!r}")
    if live not in (False, True, 'mono', 'frames'):
        raise ValueError(f"live must be False, True (a terminal), 'mono' (a terminal, no colours) or 'frames' "
                         f"(plain text frames), got {live!r}")
    if isinstance(replay_samples, bool) or not isinstance(replay_samples, int) or replay_samples < 1:
        raise ValueError(f"replay_samples must be an integer of at least 1, got {replay_samples!r}")
    if out_file is not None:
        folder = os.path.dirname(os.path.abspath(out_file))
        if os.path.isdir(out_file) or not os.path.isdir(folder):
            raise ValueError(f"out_file={out_file!r} must name a file in an existing folder (each sample is "
                             f"appended to it as a JSON line)")
    if needs_remasker(settings) and not remasking_checkpoint_name:
        raise ValueError("correction_by='remasker' needs a remasking model: set remasking_checkpoint_name")
    if start and infill:
        raise ValueError("give a prompt (start) or a template (infill), not both")
    read_text('start', start)  # a file that cannot be read, or a template that opens no hole, is an error
    template = read_text('infill', infill)  # before anything loads
    if template:
        template_pieces(template)
    shared = bool(remasking_checkpoint_name) and shares_pass(checkpoint_name, remasking_checkpoint_name, out_dir)
    return replace(settings, correction_by=correction_by_for(settings, shared))


def viewers_for(rank, settings, u, r, tokenizer, prompt, template, bs, dev):
    """watch.py's viewers when live or replay asks for one (watch.py is imported only then), else None."""
    if live is False and replay is None:
        return None
    try:
        import watch
    except ImportError:
        raise ValueError("live and replay need watch.py beside sample.py: copy it too, or leave them off") from None
    style = watch.check(live, replay, replay_samples, num_samples=num_samples, iterations=diffusion_iterations,
                        stream=sys.stderr, rank=rank)
    meta = {'settings': asdict(settings), 'checkpoint_name': u['path'],
            'remasking_checkpoint_name': r['path'] if r else None, 'seed': seed, 'start': prompt,
            'infill': template, 'num_samples': num_samples, 'batch_size': bs, 'device': dev, 'dtype': dtype}
    return watch.Viewers(tokenizer, live=style if rank == 0 else None, stream=sys.stderr, replay=replay,
                         replay_samples=replay_samples, meta=meta)


def knob_notes(settings, C):
    """The `note:` lines for knobs set to something this run does not use."""
    notes = []
    if settings.mode == 'random' and remasking_confidence_threshold is not None:
        notes.append(f"remasking_confidence_threshold={remasking_confidence_threshold} is not used: "
                     f"use_intelligent_remasking=False selects random re-masking")
    for knob, modes in _USED_BY.items():
        if globals()[knob] != _DEFAULTS[knob] and settings.mode not in modes:
            notes.append(f"{knob}={globals()[knob]!r} is not used: only {', '.join(modes)} modes use it")
    for knob in _CORRECTION_KNOBS:
        if globals()[knob] != _DEFAULTS[knob] and not C:
            notes.append(f"{knob}={globals()[knob]!r} is not used: no self-correction" +
                         (" (correction_passes=0)" if correction_passes == 0 else
                          f" (correction_share {correction_share:g} of the positions to generate rounds to 0)"))
    if live in (True, 'mono') and not_a_terminal(sys.stderr):
        notes.append(f"live={live!r} draws only on a terminal, and stderr is not one: the iteration lines follow "
                     f"instead (--live=frames writes plain frames anywhere)")
    return notes


def not_a_terminal(stream):
    """Whether the live view would fall back to the iteration lines on stream (watch.py decides)."""
    try:
        import watch
    except ImportError:
        return False  # viewers_for says watch.py is missing
    return watch.live_style(True, stream, os.environ) is None


def startup_lines(settings, Cs, u, r, shared, dev, world, length, windows, block, ctx, fixed, given, whole, t0):
    """The header on stderr: the mode, the models, the run's size, the given text."""
    lines = [f"mode: {settings.mode} ({describe(settings, Cs[0], shared)})"]
    if len(set(Cs)) > 1:
        lines.append(f"note: each window resolves its self-correction passes: {', '.join(map(str, Cs))} (none "
                     f"where correction_share {correction_share:g} of its new tokens rounds to 0)")
    lines += [f"note: {n}" for n in knob_notes(settings, Cs[0])]
    where = f"{world} processes, {dev.split(':')[0]}" if world > 1 else dev
    models = f"unmasking and remasking model: {u['path']} (one pass an iteration fills and judges)" if shared else \
        f"unmasking model: {u['path']} | remasking model: {r['path'] if r is not None else 'none'}"
    lines.append(f"{models} | device {where} {dtype}{' compiled' if compile else ''} | "
                 f"load {time.perf_counter() - t0:.1f}s")
    lines.append(f"{num_samples} sample(s) of {length} tokens, {diffusion_iterations} iterations"
                 f"{' at most' if settings.mode == 'threshold' else ''}, temperature {temperature}, seed {seed}, "
                 f"batch_size {settings_batch(dev)}")
    if len(windows) > 1:
        lines.append(f"longer than the models' block_size {block}: written in {len(windows)} windows, each next one "
                     f"beginning with the last {ctx} tokens so far")
    if fixed is not None:
        lines.append(f"{'prompt' if start else 'template'}: {given} tokens given, {length - given} to generate"
                     + (" (the template is the whole sample; sequence_length sizes only a {} hole)" if whole else ''))
    return lines


def settings_batch(dev):
    """batch_size, or the fastest per text measured on each device: 1 on the CPU, 64 on CUDA."""
    return batch_size if batch_size is not None else 64 if dev.startswith('cuda') else 1


def text_plan(tokenizer, block):
    """(the given tokens of one sample or None, its length, the windows, context, the prompt, the template,
    whether the template is the whole sample)."""
    prompt, template = read_text('start', start), read_text('infill', infill)
    whole = bool(template) and None not in template_pieces(template)  # a template without {} is the whole sample
    fixed = given_tokens(tokenizer, sequence_length, prompt, template) if prompt or template else None
    length = sequence_length if fixed is None else len(fixed)
    if template and length > block:
        raise ValueError(f"the template is {length} tokens, longer than the models' block_size {block}: a template "
                         f"is filled in one window; write longer text with a prompt (start) or none")
    ctx = context if context is not None else block // 4
    if ctx >= block:
        raise ValueError(f"context {ctx} must be below the models' block_size {block} (each next window begins "
                         f"with context tokens of the text so far)")
    given = sum(t >= 0 for t in fixed) if fixed is not None else 0
    windows = window_lengths(length, block, ctx, given)
    if replay is not None and len(windows) > 1:
        raise ValueError(f"replay holds one window of at most block_size {block} tokens; sequence_length {length} "
                         f"is written in {len(windows)}: leave replay off, or write at most {block}")
    return fixed, length, windows, ctx, prompt, template, whole, given


class Sink:
    """out_file, opened at the first sample (an interrupted run leaves no empty file), one whole JSON
    line a sample, flushed."""

    def __init__(self, path):
        self.path, self.file, self.written = path, None, 0

    def write(self, row):
        if self.file is None:
            self.file = open(self.path, 'a', encoding='utf-8')
        self.file.write(json.dumps(row) + '\n')
        self.file.flush()
        self.written += 1

    def close(self):
        if self.file is not None:
            self.file.close()


class ThresholdWatch:
    """Threshold mode's convergence, read off the stream: rows that re-mask nearly every position past
    the first iterations, or end at the safety limit, earn one `warning:` line at the end."""

    def __init__(self):
        self.shares, self.limit, self.rows = [], 0, 0

    def __call__(self, step):
        if step.iteration >= 2 and not step.last:
            ran = step.ran
            gen = (~step.given[ran]).sum(dim=1).clamp(min=1)
            self.shares.append((step.remasked[ran].sum(dim=1) / gen).mean().item())
        if step.last:
            self.rows += step.converged.numel()
            self.limit += int((~step.converged).sum())

    def warning(self, threshold, iterations):
        share = sum(self.shares) / len(self.shares) if self.shares else 0.0
        if not self.limit and share < 0.9:
            return None
        return (f"warning: threshold mode did not converge: {self.limit} of {self.rows} samples ran all {iterations} "
                f"iterations, re-masking {share:.0%} of their positions an iteration after the first two; this "
                f"remasker finds most tokens above {threshold}, so the text is what the last fill drew. Try a higher "
                f"remasking_confidence_threshold, the guide's naive remasker "
                f"(--remasking_checkpoint_name=ckpt_remasking_naive_4400.pt), or mixed mode "
                f"(--use_mixed_remasking=True)")


def batch_run(b, bs, dev, models, settings, u, tokenizer, fixed, windows, block, ctx, log, viewers, watcher):
    """Batch b: (b, texts, iterations run, converged_at per text, passes and fills per text, seconds)."""
    unmasker, remasker = models
    first_sample = b * bs
    n = min(bs, num_samples - first_sample)
    n_batches = math.ceil(num_samples / bs)
    if log and n_batches > 1:
        log(f"batch {b + 1}/{n_batches}: samples {first_sample}..{first_sample + n - 1}")
    generator = torch.Generator(device=dev).manual_seed(batch_seed(seed, b))
    t1 = time.perf_counter()
    cost = [g + w for g, w in windows]  # a window costs about its positions, given and new

    def progress(k, n_windows, text, info):  # one line a window, for text longer than a block
        if not log or n_windows == 1:
            return
        elapsed = time.perf_counter() - t1
        line = f"window {k}/{n_windows}: {text.size(1)} of {settings.sequence_length} characters, " \
               f"{elapsed:.1f}s elapsed, about {elapsed * sum(cost[k:]) / sum(cost[:k]):.1f}s left"
        if settings.mode == 'threshold':
            at = info['converged_at'].tolist()
            line += f"; {sum(a > 0 for a in at)} of {len(at)} converged, after iteration {max(at)} at most"
        log(line)
    watch = viewers.batch(first_sample, n) if viewers else None
    if watcher is not None:
        watch = watcher if watch is None else (lambda step, a=watch: (a(step), watcher(step)))
    tokens, info = generate_text(unmasker, remasker, settings, batch_size=n, block_size=block, context=ctx,
                                 base_vocab_size=u['base_vocab_size'], mask_token_id=u['mask_token_id'],
                                 wrong_token_id=u['wrong_token_id'], generator=generator,
                                 log=None if viewers and viewers.live else log,  # or the live view
                                 watch=watch, progress=progress,
                                 fixed=None if fixed is None else torch.tensor([fixed] * n))
    texts = [tokenizer.decode(row) for row in tokens.tolist()]  # .tolist() waits for the device
    return (b, texts, info['iterations'], info['converged_at'].tolist(), info['passes'].tolist(),
            info['fills'].tolist(), time.perf_counter() - t1)


def emit(sink, log, bs, length, prompt, template, mode, result):
    """A batch's texts on stdout (each followed by a line of dashes), in out_file and in the log."""
    b, texts, iterations, converged_at, passes, fills, seconds = result
    for k, text in enumerate(texts):
        print(text)
        print('---------------', flush=True)
        at = converged_at[k] if isinstance(converged_at[k], list) else [converged_at[k]]  # one per window
        at = [a if a > 0 else None for a in at]
        if sink:
            row = {'sample': b * bs + k, 'text': text, 'seed': seed, 'mode': mode, 'iterations': iterations,
                   'converged_at': at if len(at) > 1 else at[0], 'passes': passes[k], 'fills': fills[k]}
            row.update({'start': prompt} if prompt else {'infill': template} if template else {})
            sink.write(row)
        if log:
            runs = iterations if isinstance(iterations, list) else [iterations]
            conv = '; '.join(f"converged after iteration {a}" if a else f"ran {i} iterations" for a, i in zip(at, runs))
            log(f"sample {b * bs + k}: {conv}" if len(at) == 1 else f"sample {b * bs + k}, window by window: {conv}")
    if log:
        log(f"batch of {len(texts)}: {seconds:.2f}s wall, {len(texts) * length / seconds:,.0f} tokens/s, "
            f"{sum(passes) / len(passes):g} forward passes a sample ({sum(fills) / len(fills):g} of them fills)")


def main():
    configure(globals(), sys.argv[1:], keys=_knobs)
    settings = check_knobs()  # 1) every knob checked, before anything loads
    rank, world, dev = distributed_setup(device)  # torchrun: batch b runs on process b % N
    log = (lambda s: print(s, file=sys.stderr, flush=True)) if verbose and rank == 0 else None
    t0 = time.perf_counter()
    remasker_name = remasking_checkpoint_name if needs_remasker(settings) else None  # 2) the models
    unmasker, u, remasker, r = load_models(checkpoint_name, remasker_name, out_dir=out_dir, device=dev, dtype=dtype,
                                           sequence_length=sequence_length, windowed=True)
    block, tokenizer = u['model_args']['block_size'], build_tokenizer(u['tokenizer'])
    fixed, length, windows, ctx, prompt, template, whole, given = text_plan(tokenizer, block)  # 3) the text
    settings = replace(settings, sequence_length=length)
    Cs = [correction_passes_for(replace(settings, sequence_length=g + n), [n]) for g, n in windows]  # per window
    bs = settings_batch(dev)
    viewers = viewers_for(rank, replace(settings, correction_passes=Cs[0]), u, r, tokenizer, prompt, template, bs,
                          dev)
    shared = remasker is unmasker
    if compile:
        unmasker = torch.compile(unmasker)
        remasker = unmasker if shared else torch.compile(remasker) if remasker is not None else None
    for line in startup_lines(settings, Cs, u, r, shared, dev, world, length, windows, block, ctx, fixed, given,
                              whole, t0) if log else []:
        log(line)
    watcher = ThresholdWatch() if settings.mode == 'threshold' and rank == 0 else None
    sink = Sink(out_file) if out_file and rank == 0 else None
    n_batches = math.ceil(num_samples / bs)
    try:  # 4) the batches: one round puts a batch on each process; process 0 prints them in order
        for first in range(0, n_batches, world):
            mine = batch_run(first + rank, bs, dev, (unmasker, remasker), settings, u, tokenizer, fixed, windows,
                             block, ctx, log, viewers, watcher) if first + rank < n_batches else None
            results = [mine]
            if world > 1:
                results = [None] * world if rank == 0 else None
                torch.distributed.gather_object(mine, results, dst=0)
            for result in results or []:
                if result is not None:
                    emit(sink, log, bs, length, prompt, template, settings.mode, result)
    except KeyboardInterrupt:
        kept = f"; {sink.written} whole sample(s) in {out_file}" if sink and sink.written else ''
        raise Interrupted(f"interrupted{kept}") from None
    finally:
        if sink:
            sink.close()
    if viewers:
        viewers.finish(rank, world, log)  # the replay page, written by rank 0
    warning = watcher.warning(settings.threshold, diffusion_iterations) if watcher else None
    if warning:
        print(warning, file=sys.stderr, flush=True)
    if log:
        log(f"done in {time.perf_counter() - t0:.1f}s")
    if world > 1:
        torch.distributed.destroy_process_group()


if __name__ == '__main__':
    run_main(main)
