"""
README's pictures of watch.py: assets/watch.gif, the live view's frames of a real run of sample.py at
its defaults (the shipped checkpoints), and assets/replay.png, that run's replay page in Chromium.

    $ python experiments/make_watch_gif.py    # under a minute on a 2-core CPU; needs Pillow, playwright, chromium

It runs `python sample.py --replay=<a temporary folder>/replay.html --verbose=False` (every other knob
at its default; arguments given here are passed on to sample.py), reads the frames back from the
page (watch.expand), and draws the first CHARS characters of the first sample as the live view
shows them (watch.wrap, the page's colours watch.RGB, bold and underlined as in the terminal), one
GIF frame per iteration after an all-[MASK] start, in DejaVu Sans Mono. Then it opens the page in
headless Chromium (playwright, the browser apt installed: nothing is downloaded) at iteration SHOT
and takes the screenshot. The GIF stays well under 2 MB (16 colours, only what changes is stored).
"""

import json
import os
import re
import subprocess
import sys
import tempfile

from PIL import Image, ImageDraw, ImageFont

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import watch  # noqa: E402

CHARS = 600  # characters of the sample drawn
COLUMNS = 80  # the GIF's terminal width
SHOT = 20  # the screenshot's iteration (1-based): the first correction pass, just filled, kept and corrected tokens
FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf'  # Debian's fonts-dejavu-core
FONT_BOLD = '/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf'
SIZE = 15  # font size, px
FRAME_MS, LAST_MS = 300, 3000  # how long each frame shows, and the finished text
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--no-first-run']


def run_sample(folder):
    """sample.py at its defaults with a replay page: (the page's path, its data)."""
    path = os.path.join(folder, 'replay.html')
    subprocess.run([sys.executable, os.path.join(ROOT, 'sample.py'), f'--replay={path}', '--verbose=False',
                    *sys.argv[1:]], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    with open(path, encoding='utf-8') as f:
        blob = re.search(r'<script type="application/json" id="data">(.*?)</script>', f.read(), re.S).group(1)
    return path, json.loads(blob)


def draw(rows, status, fonts, size):
    """One GIF frame: the status line, the legend and rows of (char, state) cells, as the terminal shows them."""
    regular, bold = fonts
    cw, lh = regular.getlength('M'), round(SIZE * 1.4)
    img = Image.new('RGB', size, watch.BACKGROUND)
    d = ImageDraw.Draw(img)
    pad = 12
    head = watch.wrap([(status, 'k')], COLUMNS)
    for k, line in enumerate(head + watch.wrap(watch.legend('color'), COLUMNS) + [[]] + rows):
        y = pad + k * lh
        for j, (ch, s) in enumerate(line):
            x = pad + j * cw
            grey = k < len(head)  # the status line
            d.text((x, y), ch, font=bold if s in 'fc' else regular, fill='#9a9a9a' if grey else watch.RGB[s])
            if s == 'g':
                d.line((x, y + SIZE + 2, x + cw, y + SIZE + 2), fill=watch.RGB[s])
    return img


def make_gif(data, out):
    sample = data['samples'][0]
    frames = watch.expand(sample)
    n = min(CHARS, sample['length'])
    decode = lambda t: data['tokens'][str(t)]  # noqa: E731
    start = ([0] * n, 'm' * n)  # before the first iteration: every position [MASK]
    shown = [(start, f"iter 0/{data['meta']['settings']['diffusion_iterations']} | all [MASK]")] + \
        [((ids[:n], states[:n]), f['status']) for (ids, states, _), f in zip(frames, sample['frames'])]
    wrapped = [watch.wrap(watch.cells({'ids': ids, 'states': states}, decode), COLUMNS) for (ids, states), _ in shown]
    fonts = ImageFont.truetype(FONT, SIZE), ImageFont.truetype(FONT_BOLD, SIZE)
    cw, lh = fonts[0].getlength('M'), round(SIZE * 1.4)
    size = (round(24 + COLUMNS * cw), 24 + (4 + max(len(r) for r in wrapped)) * lh)
    images = [draw(rows, status, fonts, size).quantize(colors=16, method=Image.Quantize.MEDIANCUT)
              for rows, (_, status) in zip(wrapped, shown)]
    images[0].save(out, save_all=True, append_images=images[1:], loop=0, optimize=True,
                   duration=[FRAME_MS] * (len(images) - 1) + [LAST_MS])
    print(f"{out}: {len(images)} frames, {os.path.getsize(out) / 1e6:.2f} MB")


def screenshot(path, out):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path='/usr/bin/chromium', args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={'width': 1200, 'height': 1000})
        page.goto('file://' + os.path.abspath(path))
        for _ in range(SHOT - 1):
            page.keyboard.press('ArrowRight')
        page.screenshot(path=out)
        browser.close()
    print(f"{out}: iteration {SHOT}, {os.path.getsize(out) / 1e6:.2f} MB")


if __name__ == '__main__':
    with tempfile.TemporaryDirectory() as folder:
        page_path, data = run_sample(folder)
        make_gif(data, os.path.join(ROOT, 'assets', 'watch.gif'))
        screenshot(page_path, os.path.join(ROOT, 'assets', 'replay.png'))
