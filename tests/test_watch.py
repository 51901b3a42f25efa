"""The viewers of watch.py as a person uses them: sample.py's live view on a (pseudo-)terminal and as
plain frames, the replay page opened in a real headless Chromium and driven by its keys, and the
knobs' bad values, against tiny random checkpoints made here. Every frame is checked against the
Steps of generate() itself, decoded by the rule the page and README state: the tokens' text, with
'·' for a [MASK] the mode re-masked and '×' for one self-correction re-masked."""

import contextlib
import dataclasses
import fcntl
import json
import os
import re
import struct
import sys
import termios
import threading

import pytest
import torch

import sample  # noqa: E402
import watch  # noqa: E402
from conftest import assert_error_line, tiny_checkpoint

CHARS = list("\n !,.?abcdefghijklmnopqrstuvwxyz")
SEP = '---------------\n'
CHROMIUM = '/usr/bin/chromium'
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--no-first-run']
SHORT = ['--sequence_length=48', '--diffusion_iterations=6']


@pytest.fixture(scope='module')
def workdir(tmp_path_factory):
    """A folder with checkpoints/ holding tiny models under the names sample.py's defaults use."""
    d = tmp_path_factory.mktemp('watch')
    (d / 'checkpoints').mkdir()
    tiny_checkpoint(d / 'checkpoints' / 'ckpt_unmasking.pt', 'unmasking', 0, CHARS)
    tiny_checkpoint(d / 'checkpoints' / 'ckpt_fill_and_judge.pt', 'fill_and_judge', 7, CHARS)  # the default
    return d


@pytest.fixture
def sample_main(workdir, run_script):
    return lambda *args: run_script('sample.py', *args, cwd=workdir)


def texts(stdout):
    assert stdout.endswith('\n' + SEP)
    return stdout[:-len(SEP) - 1].split('\n' + SEP)


def expected(step, decode):
    """Per row of a Step: (the text a viewer shows, the state letter of each position), from the
    Step's own views by the documented rule (corrected, re-masked, given, just filled, kept)."""
    out = []
    for b in range(step.tokens.size(0)):
        chars, states = [], []
        for p, t in enumerate(step.tokens[b].tolist()):
            if step.corrected[b, p]:
                chars.append('×'), states.append('c')
            elif step.remasked[b, p]:
                chars.append('·'), states.append('m')
            else:
                chars.append(decode(t))
                states.append('g' if step.given[b, p] else 'f' if step.masked[b, p] else 'k')
        out.append((''.join(chars), ''.join(states)))
    return out


def rerun(workdir, meta, batch_index, n):
    """generate() again, as sample.py ran batch batch_index of n samples by the page's meta: the
    frames of each row as expected() has them, [row][iteration] -> (text, states)."""
    s = sample.Sampling(**meta['settings'])
    u_name = os.path.join(workdir, meta['checkpoint_name'])
    r_name = meta['remasking_checkpoint_name'] and os.path.join(workdir, meta['remasking_checkpoint_name'])
    unmasker, u, remasker, _ = sample.load_models(u_name, r_name, out_dir=str(workdir), device='cpu', dtype='float32',
                                                  sequence_length=s.sequence_length)
    tokenizer = sample.build_tokenizer(u['tokenizer'])
    fixed = None
    if meta['start'] or meta['infill']:
        fixed = torch.tensor([sample.given_tokens(tokenizer, s.sequence_length, meta['start'], meta['infill'])] * n)
    frames = [[] for _ in range(n)]

    def record(step):
        for b, f in enumerate(expected(step, lambda t: tokenizer.decode([t]))):
            frames[b].append(f)
    generator = torch.Generator().manual_seed(sample.batch_seed(meta['seed'], batch_index))
    sample.generate(unmasker, remasker, s, batch_size=n, base_vocab_size=u['base_vocab_size'],
                    mask_token_id=u['mask_token_id'], wrong_token_id=u['wrong_token_id'], generator=generator,
                    fixed=fixed, watch=record)
    return frames


def page_data(path):
    text = open(path, encoding='utf-8').read()
    m = re.search(r'<script type="application/json" id="data">(.*?)</script>', text, re.S)
    assert m, "the page holds its data in one JSON script"
    return text, json.loads(m.group(1))


def frame_texts(data, k):
    """Sample k's frames in full from the page's deltas, as (text, states)."""
    return [(''.join(data['placeholders'].get(s, data['tokens'].get(str(t))) for t, s in zip(ids, states)), states)
            for ids, states, _ in watch.expand(data['samples'][k])]


# -----------------------------------------------------------------------------
# the live view's frames

def sgr_cells(painted):
    """A painted frame -> rows of (char, attributes) with the SGR attributes in force at each char."""
    rows, row, attrs, i = [], [], set(), 0
    while i < len(painted):
        if painted.startswith('\x1b[', i):
            end = painted.index('m', i)
            for code in painted[i + 2:end].split(';'):
                attrs = set() if code in ('', '0') else attrs | {code}
            i = end + 1
            continue
        if painted[i] == '\n':
            rows.append(row)
            row = []
        else:
            row.append((painted[i], frozenset(attrs)))
        i += 1
    return rows + [row]


COLOURS = {str(c) for c in [*range(30, 38), *range(90, 98)]}  # SGR foreground colours
# ten positions: 'a' 'b' given, a kept newline, 'c' just filled, 'd' kept, a re-masked one, a corrected one, ...
VIEW = {'iteration': 2, 'iterations': 6, 'last': False, 'ids': list(range(10)), 'states': 'ggkfkmcfkk',
        'scores': [None] * 10, 'filled': 2, 'remasked': 2, 'corrected': 1, 'reread': 3, 'label': 'P([WRONG])',
        'converged': False, 'ran': True, 'score_range': (0.001, 0.25, 0.75)}
DECODE = 'ab\ncdefghi'.__getitem__  # token t's text; token 2 is a newline
CELL_STATES = 'ggfkmcfkk'  # the states of the cells drawn (the newline takes none)


def test_frame_colour_and_mono_marks_tell_every_state_apart():
    marks = {}
    for style in ('color', 'mono'):
        rows = sgr_cells(watch.frame(VIEW, DECODE, style, width=140))
        assert ''.join(c for c, _ in rows[0]) == ('iter 3/6 | filled 2 | re-masked 2 (1 corrected of 3 re-read) | '
                                                  'P([WRONG]) min 1.00e-03 mean 2.50e-01 max 7.50e-01')
        assert [''.join(c for c, _ in r) for r in rows[2:]] == ['ab', 'cd·×ghi']  # the newline breaks the row
        cells = [c for r in rows[2:] for c in r]
        looks = {}
        for (ch, attrs), state in zip(cells, CELL_STATES):
            # what a monochrome terminal still shows: the placeholder of a [MASK], and bold or underline
            looks.setdefault(state, set()).add((ch if state in 'mc' else 'a token', attrs - COLOURS))
            if style == 'mono':
                assert not attrs & COLOURS, "a mono frame has no colours"
        assert all(len(v) == 1 for v in looks.values()), looks  # one look per state
        assert len({next(iter(v)) for v in looks.values()}) == 5, looks  # five different looks
        marks[style] = looks
        if style == 'color':
            colour = {state: frozenset(attrs & COLOURS) for (_, attrs), state in zip(cells, CELL_STATES)}
            assert len(set(colour.values())) == 5, colour  # and five colours (kept: the terminal's own)
    assert marks['color'] == marks['mono']  # colour adds to the marks, it never replaces one


def test_plain_frame_is_the_status_line_and_the_text():
    plain = watch.frame(VIEW, DECODE, 'plain')
    assert '\x1b' not in plain and plain == '== ' + watch.status_line(VIEW) + '\nab\ncd·×ghi'


def test_frame_wraps_to_the_terminal_and_fits_its_height():
    n = 500
    view = dict(VIEW, ids=[0] * n, states='f' * n, scores=[None] * n)
    rows = sgr_cells(watch.frame(view, lambda t: 'x', 'color', width=41, height=10))
    assert len(rows) == 10 and all(len(r) <= 40 for r in rows)  # never the full width, never taller
    assert ''.join(c for c, _ in rows[-1]).startswith('... ') and 'more rows' in ''.join(c for c, _ in rows[-1])


# -----------------------------------------------------------------------------
# the live view in sample.py

class Stream:
    def __init__(self, tty):
        self.tty = tty

    def isatty(self):
        return self.tty


def test_live_style_follows_the_knob_the_stream_and_the_environment():
    tty, pipe, xterm = Stream(True), Stream(False), {'TERM': 'xterm'}
    assert [watch.live_style(v, tty, xterm) for v in watch.LIVE] == [None, 'color', 'mono', 'plain']
    assert [watch.live_style(v, pipe, xterm) for v in watch.LIVE] == [None, None, None, 'plain']  # frames: anywhere
    assert watch.live_style(True, tty, {'TERM': 'xterm', 'NO_COLOR': '1'}) == 'mono'
    assert watch.live_style(True, tty, {'TERM': 'dumb'}) is None  # no cursor movement there


@contextlib.contextmanager
def pseudo_terminal(columns=100, lines=40):
    """A pty's slave end as a text stream (a terminal of that size) and the bytes written to it."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', lines, columns, 0, 0))
    got = []

    def drain():
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the slave end closed
                return
            if not chunk:
                return
            got.append(chunk)
    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    stream = os.fdopen(slave, 'w', encoding='utf-8', newline='\n')
    try:
        yield stream, got
    finally:
        stream.close()
        reader.join(5)
        os.close(master)


def test_live_redraws_in_place_on_a_terminal_only(sample_main, monkeypatch):
    monkeypatch.setenv('TERM', 'xterm-256color')
    monkeypatch.delenv('NO_COLOR', raising=False)
    args = [*SHORT, '--start=to be', '--seed=3']
    code, plain_out, plain_err = sample_main(*args)
    assert code == 0
    with pseudo_terminal() as (tty, got):
        with contextlib.redirect_stderr(tty):
            code, out, _ = sample_main(*args, '--live=True')
    assert code == 0 and out == plain_out  # stdout: the same texts, byte for byte
    screen = b''.join(got).decode('utf-8')
    assert screen.count('\x1b[J') == 6 and len(re.findall(r'\r\x1b\[\d+A', screen)) == 5  # 6 frames, 5 redraws
    assert '\x1b[1;32m' in screen and '\x1b[4;36m' in screen  # just filled, given
    assert 'iter 6/6 | filled' in screen and 'done' in screen
    assert 'iter   1/6' not in screen and 'iter   1/6' in plain_err  # the live view replaces the per-iteration lines
    assert 'mode: schedule' in screen and 'sample 0: ran 6 iterations' in screen  # the header and summary stay
    # not a terminal (captured): live=True adds only the note that says so
    code, out, err = sample_main(*args, '--live=True')
    assert code == 0 and out == plain_out and '\x1b' not in err and 'iter   1/6' in err
    note = "note: live=True draws only on a terminal, and stderr is not one: the iteration lines follow instead"
    assert [line for line in err.splitlines() if line.startswith(note)] != []
    assert strip_timings('\n'.join(line for line in err.splitlines() if not line.startswith(note))) == \
        strip_timings('\n'.join(plain_err.splitlines()))


def strip_timings(err):
    return re.sub(r'[\d.]+s\b|[\d,]+ tokens/s', '', err)


def test_live_frames_are_plain_text_of_the_steps(sample_main, workdir, tmp_path):
    code, out, err = sample_main(*SHORT, '--live=frames', '--verbose=False', '--infill=to {5} or not {}.',
                                 f'--replay={tmp_path / "r.html"}')
    assert code == 0 and '\x1b' not in err
    head, *frames = re.split(r'^== iter \d+/6 .*\n', err, flags=re.M)
    assert head.startswith('== live frames of the first sample: · = [MASK] re-masked')
    assert len(frames) == 6 and all(f.endswith('\n\n') for f in frames)
    _, data = page_data(tmp_path / 'r.html')
    want = rerun(workdir, data['meta'], 0, 1)[0]
    assert [f[:-2] for f in frames] == [text for text, _ in want]
    assert frames[-1][:-2] == texts(out)[0]


@pytest.mark.parametrize('args', [
    [],  # the defaults: schedule mode, self-correction
    ['--use_intelligent_remasking=False', '--start=to be'],
    ['--remasking_confidence_threshold=0.5', '--num_samples=3', '--batch_size=2', '--replay_samples=3'],
    ['--use_mixed_remasking=True', '--infill=be {4} not {}'],
    ['--use_confidence_remasking=True', '--correction_by=remasker'],
    ['--use_fill_once=True', '--num_samples=2', '--replay_samples=2'],
    ['--use_fill_once=True', '--use_confidence_remasking=True', '--infill=a {} z'],
], ids=['schedule', 'random', 'threshold', 'mixed', 'confidence', 'fill_once', 'fill_once_confidence'])
def test_every_mode_stdout_unchanged_and_the_page_ends_on_the_texts(sample_main, tmp_path, args):
    code, plain, _ = sample_main(*SHORT, *args)
    assert code == 0
    code, out, err = sample_main(*SHORT, *args, '--live=frames', f'--replay={tmp_path / "r.html"}')
    assert code == 0 and out == plain, err
    _, data = page_data(tmp_path / 'r.html')
    assert [s['sample'] for s in data['samples']] == list(range(len(data['samples'])))
    for k, text in enumerate(texts(out)[:len(data['samples'])]):
        frames = frame_texts(data, k)
        assert frames[-1][0] == text and '·' not in frames[-1][1]
        assert len(frames) <= 6 and [f['iteration'] for f in data['samples'][k]['frames']] == list(range(len(frames)))


def test_more_than_one_sample_a_batch_shows_the_first_and_says_so(sample_main):
    code, out, err = sample_main(*SHORT, '--live=frames', '--num_samples=2', '--batch_size=2', '--verbose=False')
    assert code == 0
    assert err.startswith('note: the live view shows the first sample of each batch (batches of up to 2 here)\n')
    assert err.count('== iter ') == 6 and err.rstrip('\n').endswith(texts(out)[0])


# -----------------------------------------------------------------------------
# the replay page

def test_replay_page_is_self_contained_and_holds_every_setting(sample_main, tmp_path):
    code, out, err = sample_main(*SHORT, '--diffusion_iterations=21', '--sequence_length=200', '--start=to be',
                                 '--seed=5', f'--replay={tmp_path / "r.html"}')
    assert code == 0 and f'replay page: {tmp_path / "r.html"} (1 sample(s)' in err
    text, data = page_data(tmp_path / 'r.html')
    assert text.startswith('<!DOCTYPE html>') and text.rstrip().endswith('</html>')
    for outside in ('src=', 'href=', 'url(', '@import', '<link', '<img', '<iframe', 'http:', 'https:', '//cdn'):
        assert outside not in text.lower(), outside  # nothing is loaded from anywhere
    assert text.count('<script') == 2 and text.count('<style') == 1  # the data and the player, inline
    meta = data['meta']
    assert set(meta['settings']) == {f.name for f in dataclasses.fields(sample.Sampling)}
    assert meta['settings']['mode'] == 'schedule' and meta['seed'] == 5 and meta['start'] == 'to be'
    assert meta['checkpoint_name'].endswith('ckpt_fill_and_judge.pt')
    assert meta['remasking_checkpoint_name'].endswith('ckpt_fill_and_judge.pt')
    # the settings as they ran: correction_passes resolved (regression: the page showed None where some ran)
    assert meta['settings']['correction_passes'] == 7  # a third of 21
    assert meta['settings']['correction_by'] == 'remasker'  # resolved: the shared model judges
    for name in ('correction_passes', 'selection_temperature', 'remasking_checkpoint_name', 'seed'):
        assert f'<th>{name}</th>' in text  # shown at the top
    assert data['placeholders'] == {'m': '·', 'c': '×'}


def synthetic_steps(L=1024, T=100, seed=0):
    """A stream of Steps in which every token, state and score changes at every iteration: the page's worst case."""
    g = torch.Generator().manual_seed(seed)
    s = sample.sampling(mode='schedule', sequence_length=L, diffusion_iterations=T)
    for i in range(T):
        tokens = torch.randint(0, 65, (1, L), generator=g)
        masked = torch.rand(1, L, generator=g) < 0.5
        chosen = torch.rand(1, L, generator=g) < 0.3
        corrected = ~chosen & (torch.rand(1, L, generator=g) < 0.05)
        score = 10 ** (-6 * torch.rand(1, L, generator=g))
        info = {} if i == T - 1 else None
        yield sample.Step(i, s, 1, None, tokens, masked, None if info is not None else chosen,
                          None if info is not None else corrected, None, score, None, None,
                          torch.zeros(1, dtype=torch.bool), info)


def test_a_long_sample_over_100_iterations_stays_under_2_mb(tmp_path):
    replay = watch.Replay(str(tmp_path / 'big.html'), 1, lambda t: chr(0x21 + t), {'settings': {'mode': 'schedule'}})
    record = replay.batch(0, 1)
    full = []
    for step in synthetic_steps():
        record(step)
        (view,) = watch.views(step, [0])
        full.append((view['ids'], view['states'], [None if v is None else float(f'{v:.2g}') for v in view['scores']]))
    replay.write()
    size = os.path.getsize(tmp_path / 'big.html')
    assert size < 2_000_000, size
    _, data = page_data(tmp_path / 'big.html')
    assert watch.expand(data['samples'][0]) == full  # the deltas give every frame back


def test_deltas_store_only_what_changed():
    a = ([1, 2, 3, 4], 'fkkm', [None, 0.5, None, 0.1])
    b = ([1, 9, 3, 4], 'kkkf', [None, 0.5, None, 0.1])
    assert watch.delta(None, a) == [[0, [1, 2, 3, 4], 'fkkm', [None, 0.5, None, 0.1]]]
    assert watch.delta(a, b) == [[0, [1, 9], 'kk', [None, 0.5]], [3, [4], 'f', [0.1]]]
    assert watch.delta(b, b) == []


@pytest.fixture(scope='module')
def browser():
    """One headless Chromium for every browser check; skipped only where it cannot be launched."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -r requirements-dev.txt)")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_the_replay_page_in_a_browser_shows_the_steps_of_generate(sample_main, workdir, tmp_path, browser):
    path = tmp_path / 'r.html'
    code, out, err = sample_main(*SHORT, '--start=to be', '--num_samples=2', '--batch_size=2', '--replay_samples=2',
                                 '--seed=11', '--correction_passes=2', '--correction_share=0.1', f'--replay={path}')
    assert code == 0, err
    _, data = page_data(path)
    want = rerun(workdir, data['meta'], 0, 2)  # [sample][iteration] -> (text, states)
    assert [w[-1][0] for w in want] == texts(out)
    assert any('c' in states for _, states in want[0]) and any('m' in states for _, states in want[0])

    page = browser.new_page()
    requests, errors = [], []
    page.on('request', lambda r: requests.append(r.url))
    page.on('pageerror', lambda e: errors.append(str(e)))
    page.goto(path.as_uri())

    def screen():
        shown = page.evaluate("() => [document.getElementById('text').textContent, "
                              "[...document.querySelectorAll('#text span')].map(s => s.className).join('')]")
        return tuple(shown)

    def where():
        return page.text_content('#where')
    assert screen() == want[0][0] and where() == 'iteration 1 of 6'
    page.keyboard.press('End')
    assert screen() == want[0][5] and where() == 'iteration 6 of 6' and '| done' in page.text_content('#status')
    page.keyboard.press('Home')
    assert screen() == want[0][0]
    page.keyboard.press('ArrowRight')
    page.keyboard.press('ArrowRight')
    assert screen() == want[0][2] and where() == 'iteration 3 of 6'
    page.keyboard.press('ArrowLeft')
    assert screen() == want[0][1]
    page.keyboard.press('ArrowLeft')
    page.keyboard.press('ArrowLeft')  # no step before the first
    assert screen() == want[0][0]
    # the slider, as a drag leaves it
    page.eval_on_selector('#step', "s => { s.value = 4; s.dispatchEvent(new Event('input')); }")
    assert screen() == want[0][4]
    # a score on hover, at the first iteration (the remasker judges it; the correction passes are unjudged)
    page.keyboard.press('Home')
    titles = page.eval_on_selector_all('#text span', 'spans => spans.map(s => s.title)')
    assert titles[0] == 'position 0: given'  # a given token has no score
    states = want[0][0][1]
    assert all(re.fullmatch(rf'position {p}: [a-z ,:-]+( \(it drew "[a-z .,!?\\n]+"\))?; P\(\[WRONG\]\) [\d.e-]+', t)
               for p, t in enumerate(titles) if states[p] != 'g'), titles
    assert 'it drew' in titles[states.index('m')]
    # Space plays (the button focused, as after a click, must not play it twice) and pauses
    page.focus('#play')
    page.keyboard.press(' ')
    page.wait_for_function("() => document.getElementById('where').textContent !== 'iteration 1 of 6'")
    page.keyboard.press(' ')
    paused = where()
    assert page.text_content('#play') == 'play'
    page.wait_for_timeout(400)
    assert where() == paused and paused != 'iteration 6 of 6'
    # the second sample, at the same iteration
    k = int(paused.split()[1]) - 1
    page.select_option('#sample', '1')
    assert screen() == want[1][k]
    page.keyboard.press('End')
    assert screen() == want[1][5]
    assert errors == [] and requests == [path.as_uri()]  # nothing but the page itself
    page.close()


# -----------------------------------------------------------------------------
# bad input: one line, before anything is loaded or generated

@pytest.mark.parametrize('args, message', [
    (['--replay=no_such_folder/r.html'], 'no_such_folder does not exist'),
    (['--replay=checkpoints'], "replay must be the path of an .html file to write, got 'checkpoints'"),
    ([f'--replay={"x" * 300}.html'], 'cannot write there (File name too long)'),
    (['--replay=r.html', '--replay_samples=9', '--num_samples=9'], 'replay_samples must be an integer from 1 to 8'),
    (['--replay=r.html', '--replay_samples=2'], 'replay_samples=2 is more than num_samples=1'),
    (['--replay=r.html', '--diffusion_iterations=201'], 'at most 200 iterations, and diffusion_iterations is 201'),
    (['--live=yes'], "live must be False, True (a terminal), 'mono' (a terminal, no colours) or 'frames'"),
    (['--live=1'], "(plain text frames), got '1'"),
])
def test_bad_input_is_one_line_before_anything_runs(sample_main, workdir, args, message):
    assert_error_line(*sample_main(*args), message)
    assert not os.path.exists(workdir / 'r.html')


def test_a_viewer_without_watch_py_is_one_line(sample_main, monkeypatch):
    monkeypatch.setitem(sys.modules, 'watch', None)  # as if sample.py had been copied alone: import watch fails
    assert_error_line(*sample_main('--live=frames'), 'live and replay need watch.py beside sample.py')
    code, out, _ = sample_main(*SHORT, '--verbose=False')  # without a viewer it never imports it
    assert code == 0 and len(texts(out)) == 1
