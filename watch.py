"""
Watch it write: viewers of the stream of Steps that sample.generate() hands to its watch callable.

    $ python sample.py --live=True                   # the first sample redrawn in place on stderr (a terminal)
    $ python sample.py --live=frames 2> frames.txt   # plain text frames one after another, anywhere
    $ python sample.py --replay=replay.html          # every iteration in one self-contained page

The viewers read a Step's whole-batch views (a host sync each, fine when watching) and change nothing
that is generated: the texts on stdout are the same with and without them. sample.py imports this
file only when a viewer is asked for, so sample.py, model.py and configurator.py copied alone still
generate.

What a position shows after an iteration (its fill, then the re-masking), in every viewer; each
state has a colour and a mark that needs no colour (bold, underline, its own placeholder):

    state  what                                                      terminal            page
    f      just filled: drawn by this iteration's fill and kept      green, bold         green, bold
    k      kept: drawn by an earlier iteration, kept                 default, no mark    grey, no mark
    g      given: a token of the prompt or template                  cyan, underlined    blue, underlined
    m      re-masked after the fill: [MASK], drawn again next pass   '·' grey            '·' grey
    c      corrected: a kept token re-masked by self-correction      '×' red, bold       '×' red, bold

Plain frames (live='frames') have no escape codes: they show the placeholders and the status line,
not the marks of just-filled and given tokens (the terminal view and the page have those).
"""

import functools
import html
import json
import math
import os

import torch

from sample import score_name

MASK_MARK = '·'  # a [MASK] that the mode re-masked: the next pass draws it again
CORRECTED_MARK = '×'  # a [MASK] that self-correction made of a kept token
MARKS = {'m': MASK_MARK, 'c': CORRECTED_MARK}
STATES = {'f': 'just filled', 'k': 'kept', 'g': 'given', 'm': 're-masked, drawn again next',
          'c': 'corrected: re-masked, drawn again next'}
LIVE = (False, True, 'mono', 'frames')  # the values of sample.py's live knob
MAX_REPLAY_SAMPLES = 8  # the replay page's caps: 8 samples of 200 iterations of 1024 tokens stay under ~16 MB
MAX_REPLAY_ITERATIONS = 200

# SGR codes of each state: colour and a mark that survives a monochrome terminal ('mono' is the mark alone)
SGR = {'color': {'f': '1;32', 'k': '', 'g': '4;36', 'm': '90', 'c': '1;31'},
       'mono': {'f': '1', 'k': '', 'g': '4', 'm': '', 'c': '1'}}
# the page's and the GIF's colours, on a dark background like a terminal's
RGB = {'f': '#4ade80', 'k': '#c8c8c8', 'g': '#60a5fa', 'm': '#6b6b6b', 'c': '#f87171'}
BACKGROUND = '#141414'


# -----------------------------------------------------------------------------
# checking the knobs, before anything is loaded

def check(live, replay, replay_samples, *, num_samples, iterations, stream, rank=0, environ=None):
    """Raise ValueError for knob values the viewers cannot honour; return the live view's style:
    'color' or 'mono' (redrawn in place on a terminal), 'plain' (frames one after another) or None."""
    if not (live is True or live is False or live in ('mono', 'frames')):
        raise ValueError(f"live must be False, True (a terminal), 'mono' (a terminal, no colours) or 'frames' "
                         f"(plain text frames), got {live!r}")
    if replay is not None:
        if not isinstance(replay, str) or not replay or os.path.isdir(replay):
            raise ValueError(f"replay must be the path of an .html file to write, got {replay!r}")
        folder = os.path.dirname(os.path.abspath(replay))
        if not os.path.isdir(folder):
            raise ValueError(f"replay={replay!r}: the folder {folder} does not exist; create it or give another path")
        if rank == 0:
            _check_writable(replay)
        if isinstance(replay_samples, bool) or not isinstance(replay_samples, int) or \
                not 1 <= replay_samples <= MAX_REPLAY_SAMPLES:
            raise ValueError(f"replay_samples must be an integer from 1 to {MAX_REPLAY_SAMPLES} (the replay page's "
                             f"cap), got {replay_samples!r}")
        if replay_samples > num_samples:
            raise ValueError(f"replay_samples={replay_samples} is more than num_samples={num_samples}: lower it, "
                             f"or generate more samples")
        if iterations > MAX_REPLAY_ITERATIONS:
            raise ValueError(f"the replay page holds at most {MAX_REPLAY_ITERATIONS} iterations, and "
                             f"diffusion_iterations is {iterations}: lower it, or leave replay off")
    return live_style(live, stream, os.environ if environ is None else environ)


def _check_writable(path):
    existed = os.path.exists(path)
    try:
        with open(path, 'a', encoding='utf-8'):
            pass
    except OSError as e:
        raise ValueError(f"replay={path!r}: cannot write there ({e.strerror}); give a path in a writable folder") \
            from None
    if not existed:
        os.remove(path)


def live_style(live, stream, environ):
    """The live view's style for the knob's value: True draws in place only where stream is a terminal
    (TERM=dumb is none), in colour unless NO_COLOR is set; 'mono' likewise without colours; 'frames'
    writes plain frames wherever stream goes."""
    if live is False:
        return None
    if live == 'frames':
        return 'plain'
    if not (stream.isatty() and environ.get('TERM') != 'dumb'):
        return None
    return 'mono' if live == 'mono' or environ.get('NO_COLOR') else 'color'


# -----------------------------------------------------------------------------
# what a Step shows, row by row

def views(step, rows):
    """The rows (a list of batch indices) of a Step as the viewers show them: per row a dict with
    iteration, iterations, last, ids (token ids), states (a str of state letters, see STATES),
    scores (the mode's score at each generated position, None where there is none), the counts
    filled, remasked, corrected, reread, score_range ((min, mean, max) of the scores, or None),
    label (what the score is), converged and ran."""
    at = torch.as_tensor(rows, dtype=torch.long, device=step.tokens.device)
    masked, remasked, corrected = step.masked[at], step.remasked[at], step.corrected[at]
    given, reread, score = step.given[at], step.reread[at], step.score[at].float()
    state = torch.ones_like(masked, dtype=torch.uint8)  # 1: kept
    state = state.masked_fill(masked, 0).masked_fill(given, 2).masked_fill(remasked, 3).masked_fill(corrected, 4)
    score = score.masked_fill(given, math.nan)
    counts = torch.stack([masked.sum(1), remasked.sum(1), corrected.sum(1), reread.sum(1)], 1).tolist()
    converged, ran = step.converged[at].tolist(), step.ran[at].tolist()
    label = score_name(step.settings.mode)
    out = []
    for k, (ids, st, sc) in enumerate(zip(step.tokens[at].tolist(), state.tolist(), score.tolist())):
        scores = [None if math.isnan(v) else v for v in sc]
        known = [v for v in scores if v is not None]
        out.append({'iteration': step.iteration, 'iterations': step.iterations, 'last': step.last, 'ids': ids,
                    'states': ''.join('fkgmc'[s] for s in st), 'scores': scores,
                    'filled': counts[k][0], 'remasked': counts[k][1], 'corrected': counts[k][2],
                    'reread': counts[k][3], 'label': label, 'converged': converged[k], 'ran': ran[k],
                    'score_range': (min(known), sum(known) / len(known), max(known)) if known else None})
    return out


def status_line(view):
    """One line: the iteration, the mode's counts and the score's range over the generated positions."""
    line = f"iter {view['iteration'] + 1}/{view['iterations']}"
    if not view['ran']:
        return line + " | converged: nothing more to do"
    line += f" | filled {view['filled']}"
    if view['last']:
        return line + " | done"
    line += f" | re-masked {view['remasked']}"
    if view['corrected'] or view['reread']:
        line += f" ({view['corrected']} corrected" + (f" of {view['reread']} re-read)" if view['reread'] else ")")
    if view['score_range'] is not None:
        lo, mean, hi = view['score_range']
        line += f" | {view['label']} min {lo:.2e} mean {mean:.2e} max {hi:.2e}"
    if view['converged']:
        line += " | converged"
    return line


def cells(view, decode):
    """The view's positions as (text, state): a [MASK]'s placeholder (MARKS) or the token's text."""
    return [(MARKS[s] if s in MARKS else decode(t), s) for t, s in zip(view['ids'], view['states'])]


def shown_text(view, decode):
    """The view's text as every viewer shows it: the tokens' texts, and placeholders for its [MASK]s."""
    return ''.join(text for text, _ in cells(view, decode))


# -----------------------------------------------------------------------------
# the live view in the terminal

def _printable(ch):
    return ch if ch == '\n' or ch.isprintable() else ' '  # a tab or a control character must not move the cursor


def wrap(pieces, width):
    """(text, state) pieces -> rows of (char, state) cells, at most width cells a row, broken at each
    newline of the text too (a newline takes no cell)."""
    rows, row = [], []
    for text, state in pieces:
        for ch in text:
            ch = _printable(ch)
            if ch == '\n':
                rows.append(row)
                row = []
                continue
            if len(row) >= width:
                rows.append(row)
                row = []
            row.append((ch, state))
    rows.append(row)
    return rows


def paint(row, style):
    """A row of (char, state) cells as text with the style's SGR codes, reset at its end."""
    codes, out, current = SGR[style], [], ''
    for ch, state in row:
        code = codes.get(state, '')
        if code != current:
            out.append('\x1b[0m' + (f'\x1b[{code}m' if code else ''))
            current = code
        out.append(ch)
    return ''.join(out) + ('\x1b[0m' if current else '')


def legend(style):
    """What the marks mean, as (text, state) pieces."""
    if style == 'plain':
        return [(f"{MASK_MARK} = [MASK] re-masked, {CORRECTED_MARK} = [MASK] corrected (both drawn again next)", 'k')]
    return [('legend: ', 'k'), ('just filled', 'f'), (' kept ', 'k'), ('given', 'g'), (' ', 'k'), (MASK_MARK, 'm'),
            (' re-masked ', 'k'), (CORRECTED_MARK, 'c'), (' corrected', 'k')]


def frame(view, decode, style='color', width=80, height=None):
    """One frame of the live view, without a final newline. style 'color' or 'mono': the status line,
    the legend and the text, each wrapped to width - 1 columns, at most height rows in all (a note
    says what is cut), each state painted (see SGR). 'plain': the status line and the text as it is,
    no codes."""
    status = status_line(view)
    if style == 'plain':
        return f"== {status}\n{shown_text(view, decode)}"
    width = max(width - 1, 20)  # a full-width row would wrap at the terminal's edge on some terminals
    head = wrap([(status, 'k')], width) + wrap(legend(style), width)
    rows = wrap(cells(view, decode), width)
    if height is not None and len(head) + len(rows) > height:
        keep = max(height - len(head) - 1, 1)
        more = f"... {len(rows) - keep} more rows (a taller terminal shows them)"
        rows = rows[:keep] + [[(ch, 'k') for ch in more[:width]]]
    return '\n'.join(paint(row, style) for row in head + rows)


def terminal_size(stream):
    try:
        return tuple(os.get_terminal_size(stream.fileno()))
    except (AttributeError, OSError, ValueError):
        return 80, 24


class LiveView:
    """The first sample of each batch drawn on stream at every iteration: redrawn in place (style
    'color' or 'mono', for a terminal: the cursor goes back up over the last frame, which is cleared
    to the end of the screen) or appended as plain frames ('plain'). A batch's last frame stays."""

    def __init__(self, stream, style, decode):
        assert style in ('color', 'mono', 'plain'), style
        self.stream, self.style, self.decode = stream, style, decode
        self.drawn = 0  # rows of the frame now on screen (0: none to move back over)
        self.started = False

    def __call__(self, step):
        if not self.started:
            self.started = True
            if step.tokens.size(0) > 1:
                self.stream.write(f"note: the live view shows the first sample of each batch (batches of up to "
                                  f"{step.tokens.size(0)} here)\n")
            if self.style == 'plain':
                self.stream.write(f"== live frames of the first sample: {legend('plain')[0][0]}\n")
        view = views(step, [0])[0]
        if self.style == 'plain':
            self.stream.write(frame(view, self.decode, 'plain') + '\n\n')
        else:
            width, height = terminal_size(self.stream)
            text = frame(view, self.decode, self.style, width, height - 1)
            back = f"\r\x1b[{self.drawn}A" if self.drawn else ''
            self.stream.write(back + '\x1b[J' + text + '\n')
            self.drawn = 0 if step.last else text.count('\n') + 1
        self.stream.flush()


# -----------------------------------------------------------------------------
# the replay page

def _rounded(score):
    return None if score is None else float(f"{score:.2g}")  # 2 digits: the page's hover, and far fewer bytes


def delta(before, after):
    """What changed from one frame of a sample to the next, as runs [start, ids, states, scores] of
    consecutive positions where a token, state or (rounded) score differs; before None: all of after."""
    ids, states, scores = after
    L = len(ids)
    changed = [True] * L if before is None else \
        [before[0][p] != ids[p] or before[1][p] != states[p] or before[2][p] != scores[p] for p in range(L)]
    runs, p = [], 0
    while p < L:
        if not changed[p]:
            p += 1
            continue
        q = p
        while q < L and changed[q]:
            q += 1
        runs.append([p, ids[p:q], states[p:q], scores[p:q]])
        p = q
    return runs


def expand(sample):
    """A recorded sample's frames back in full, from its deltas: a list of (ids, states, scores)."""
    L = sample['length']
    ids, states, scores, out = [None] * L, [''] * L, [None] * L, []
    for f in sample['frames']:
        for start, i, st, sc in f['d']:
            ids[start:start + len(i)], scores[start:start + len(i)] = i, sc
            states[start:start + len(st)] = list(st)
        out.append((list(ids), ''.join(states), list(scores)))
    return out


class Replay:
    """Records every iteration of the first `samples` samples (by their index in the run) and writes
    them as one self-contained HTML page: meta (the mode, every sampling setting, the checkpoints,
    the seed) at the top, the frames as deltas (see delta) in a JSON script the page's own JS plays."""

    def __init__(self, path, samples, decode, meta):
        self.path, self.samples, self.decode, self.meta = path, samples, decode, meta
        self.recorded = {}  # sample index -> {'sample', 'length', 'frames'}
        self._last = {}  # sample index -> its last frame in full (ids, states, scores)

    def batch(self, first_sample, n):
        """The watch callable for a batch whose rows are samples first_sample.., or None if none is recorded."""
        rows = [k for k in range(n) if first_sample + k < self.samples]
        return (lambda step: self.record(step, first_sample, rows)) if rows else None

    def record(self, step, first_sample, rows):
        for k, view in zip(rows, views(step, rows)):
            index = first_sample + k
            full = (view['ids'], view['states'], [_rounded(v) for v in view['scores']])
            sample = self.recorded.setdefault(index, {'sample': index, 'length': len(full[0]), 'frames': []})
            sample['frames'].append({'iteration': view['iteration'], 'status': status_line(view),
                                     'd': delta(self._last.get(index), full)})
            self._last[index] = full

    def data(self):
        """The page's data: meta, the placeholders, each token's text, the samples in order."""
        samples = [self.recorded[k] for k in sorted(self.recorded)]
        used = sorted({t for s in samples for f in s['frames'] for run in f['d'] for t in run[1]})
        mode = self.meta.get('settings', {}).get('mode')
        label = score_name(mode)
        return {'meta': self.meta, 'label': label, 'placeholders': MARKS, 'states': STATES,
                'tokens': {str(t): self.decode(t) for t in used}, 'samples': samples}

    def write(self):
        with open(self.path, 'w', encoding='utf-8') as f:
            f.write(page(self.data()))


def _setting_rows(meta, per_row=3):
    """meta's settings (a dict in it is flattened: the Sampling record's fields) as table rows of
    per_row (name, value) pairs, strings quoted as in a command line."""
    pairs = []
    for key, value in meta.items():
        pairs += list(value.items()) if isinstance(value, dict) else [(key, value)]
    def cell(k, v):
        return f"<th>{html.escape(str(k))}</th><td>{html.escape(repr(v) if isinstance(v, str) else str(v))}</td>"
    return ''.join('<tr>' + ''.join(cell(k, v) for k, v in pairs[i:i + per_row]) + '</tr>\n'
                   for i in range(0, len(pairs), per_row))


PAGE_STYLE = f"""
body {{ background: {BACKGROUND}; color: #ddd; margin: 1.2em; font: 14px/1.45 "DejaVu Sans Mono", Menlo, Consolas,
  ui-monospace, monospace; }}
h1 {{ font-size: 1.15em; margin: 0 0 .5em; }}
table {{ border-collapse: collapse; font-size: 12px; margin-bottom: .8em; }}
th, td {{ padding: 0 .9em 0 0; text-align: left; vertical-align: top; }}
th {{ color: #999; font-weight: normal; }}
td {{ padding-right: 2.2em; }}
#controls {{ display: flex; gap: .8em; align-items: center; margin: .5em 0; }}
#step {{ flex: 1; max-width: 40em; }}
button, select {{ font: inherit; background: #2a2a2a; color: #eee; border: 1px solid #555; padding: .1em .7em; }}
#status, #legend, #note {{ font-size: 12px; color: #aaa; margin: .3em 0; }}
#text {{ white-space: pre-wrap; overflow-wrap: anywhere; border-top: 1px solid #333; padding-top: .6em;
  max-width: 100ch; }}
.f {{ color: {RGB['f']}; font-weight: bold; }}
.k {{ color: {RGB['k']}; }}
.g {{ color: {RGB['g']}; text-decoration: underline; }}
.m {{ color: {RGB['m']}; }}
.c {{ color: {RGB['c']}; font-weight: bold; }}
"""

PAGE_SCRIPT = r"""
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('data').textContent);
  const $ = (id) => document.getElementById(id);
  const text = $('text'), slider = $('step'), where = $('where'), status = $('status'), play = $('play');
  let sample = 0, frame = -1, ids = [], states = [], scores = [], spans = [], timer = null;
  const frames = () => data.samples[sample].frames;

  function reset() {  // an empty text of the sample's length: before its first frame
    const L = data.samples[sample].length;
    ids = new Array(L).fill(null); states = new Array(L).fill('m'); scores = new Array(L).fill(null);
    frame = -1;
    if (spans.length !== L) {
      text.textContent = '';
      spans = [];
      for (let p = 0; p < L; p++) { const s = document.createElement('span'); spans.push(s); text.appendChild(s); }
    }
    slider.max = frames().length - 1;
  }

  function apply(k) {  // the deltas of frame k onto the arrays
    for (const [start, i, st, sc] of frames()[k].d) {
      for (let j = 0; j < i.length; j++) {
        ids[start + j] = i[j]; states[start + j] = st[j]; scores[start + j] = sc[j];
      }
    }
  }

  function show(k) {
    const last = frames().length - 1;
    k = Math.max(0, Math.min(last, k));
    if (k < frame) reset();
    while (frame < k) apply(++frame);
    const label = data.label;
    for (let p = 0; p < spans.length; p++) {
      const s = spans[p], st = states[p], token = data.tokens[ids[p]];
      s.className = st;
      s.textContent = st in data.placeholders ? data.placeholders[st] : token;
      let title = 'position ' + p + ': ' + data.states[st];
      if (st in data.placeholders) title += ' (it drew ' + JSON.stringify(token) + ')';
      if (scores[p] !== null) title += '; ' + label + ' ' + scores[p];
      s.title = title;
    }
    slider.value = k;
    const f = frames()[k];
    where.textContent = 'iteration ' + (f.iteration + 1) + ' of ' + data.meta.settings.diffusion_iterations +
      (frames().length < data.meta.settings.diffusion_iterations ? ' (it stopped after ' + frames().length + ')' : '');
    status.textContent = f.status;
  }

  function stop() { clearInterval(timer); timer = null; play.textContent = 'play'; }
  function toggle() {
    if (timer !== null) { stop(); return; }
    if (frame >= frames().length - 1) show(0);
    play.textContent = 'pause';
    timer = setInterval(() => { if (frame >= frames().length - 1) stop(); else show(frame + 1); }, 250);
  }

  play.addEventListener('click', toggle);
  slider.addEventListener('input', () => { stop(); show(+slider.value); });
  $('sample').addEventListener('change', (e) => {
    stop(); const k = frame; sample = +e.target.value; reset(); show(k);
  });
  const keys = {ArrowLeft: () => { stop(); show(frame - 1); }, ArrowRight: () => { stop(); show(frame + 1); },
                Home: () => { stop(); show(0); }, End: () => { stop(); show(frames().length - 1); }, ' ': toggle};
  window.addEventListener('keydown', (e) => {  // capture: the keys drive the frames whatever has the focus
    if (!(e.key in keys) || e.altKey || e.ctrlKey || e.metaKey) return;
    e.preventDefault(); e.stopPropagation();
    if (!e.repeat || e.key !== ' ') keys[e.key]();
  }, true);
  // and a focused button is not clicked by the Space that toggled already
  window.addEventListener('keyup', (e) => { if (e.key === ' ') e.preventDefault(); }, true);
  reset();
  show(0);
})();
"""


def page(data):
    """The replay page of data (see Replay.data): one HTML file, its style and script inline, nothing
    loaded from anywhere. #text holds one <span> per position, so its textContent is the frame's text
    with MASK_MARK and CORRECTED_MARK for the [MASK]s; each span's class is its state letter."""
    meta, samples = data['meta'], data['samples']
    mode = meta.get('settings', {}).get('mode', '?')
    options = ''.join(f'<option value="{k}">sample {s["sample"]}</option>' for k, s in enumerate(samples))
    pieces = [('just filled', 'f'), ('kept', 'k'), ('given', 'g'), (f'{MASK_MARK} re-masked', 'm'),
              (f'{CORRECTED_MARK} corrected', 'c')]
    key = ' '.join(f'<span class="{s}">{html.escape(t)}</span>' for t, s in pieces)
    blob = json.dumps(data, ensure_ascii=False, separators=(',', ':')).replace('<', '\\u003c')
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>replay: {html.escape(mode)} mode</title>
<style>{PAGE_STYLE}</style>
</head>
<body>
<h1>Replay: {html.escape(mode)} mode, {len(samples)} sample(s)</h1>
<table id="settings">{_setting_rows(meta)}</table>
<div id="controls">
<button id="play" type="button">play</button>
<input id="step" type="range" min="0" max="0" value="0" aria-label="iteration">
<span id="where"></span>
<select id="sample" aria-label="sample"{'' if len(samples) > 1 else ' hidden'}>{options}</select>
</div>
<p id="note">keys: Left/Right one iteration, Home the first, End the last, Space play/pause; hover a character for
its state and score. Each frame is the text after that iteration's fill and re-masking: {MASK_MARK} is a [MASK]
the mode re-masked, {CORRECTED_MARK} one self-correction re-masked.</p>
<p id="legend">{key}</p>
<p id="status"></p>
<div id="text"></div>
<script type="application/json" id="data">{blob}</script>
<script>{PAGE_SCRIPT}</script>
</body>
</html>
"""


# -----------------------------------------------------------------------------
# sample.py's glue

def token_decoder(tokenizer):
    """token id -> its text, cached (every position of every frame asks)."""
    return functools.lru_cache(maxsize=None)(lambda t: tokenizer.decode([t]))


class Viewers:
    """The viewers sample.py asked for: the live view (style from check(), None for none: only rank 0
    draws) and the replay page (path, or None), with batch() the watch callable of a batch."""

    def __init__(self, tokenizer, *, live, stream, replay, replay_samples, meta):
        decode = token_decoder(tokenizer)
        self.live = LiveView(stream, live, decode) if live else None
        self.replay = Replay(replay, replay_samples, decode, meta) if replay else None

    def batch(self, first_sample, n):
        """The watch callable for the batch of samples first_sample .. first_sample + n - 1 (None: nothing to do)."""
        recording = self.replay.batch(first_sample, n) if self.replay else None
        watchers = [w for w in (self.live, recording) if w is not None]
        if not watchers:
            return None
        return lambda step: [w(step) for w in watchers]

    def finish(self, rank=0, world=1, log=None):
        """Write the replay page on rank 0, with the samples every process recorded (torchrun)."""
        if self.replay is None:
            return
        if world > 1:
            parts = [None] * world if rank == 0 else None
            torch.distributed.gather_object(self.replay.recorded, parts, dst=0)
            if rank == 0:
                for part in parts:
                    self.replay.recorded.update(part)
        if rank == 0:
            self.replay.write()
            if log:
                log(f"replay page: {self.replay.path} ({len(self.replay.recorded)} sample(s), "
                    f"{os.path.getsize(self.replay.path) / 1e6:.2f} MB)")
