"""The repository's documents, experiments and assets agree with one another. Static checks: no model
is loaded and nothing is generated; sample.py, train.py and eval.py are imported for their knobs.

The rules:

- assets/: every file there is named as `assets/<file>` in README.md or RESULTS.md, and every
  `assets/<file>` that README.md, RESULTS.md or experiments/README.md names exists.
- experiments/: experiments/README.md has a table whose header begins `| script |`; every file in
  experiments/ but README.md is named in that table (a helper such as an eval.py rows file may be named
  in the row of the script that runs it), and every script in the table's first column exists.
- Inside each experiments/ script:
  - a checkpoint file name (`ckpt_<...>.pt`) is a file in checkpoints/, or a name that an experiments/
    script writes itself: the value given to `ship_name`, `ship_ckpt_name` or `ckpt_name` (as
    `--key=value` or `key = 'value'`, in the script or in a training preset it runs). Placeholders in
    a name (shell `$x`, `${x}`, Python `{x}`) match anything, so `ckpt_fj_$target.pt` written covers
    `ckpt_fj_reread.pt` read;
  - a preset path `config/<name>.py` exists (a `*` or a placeholder in it must match at least one);
  - every `--key=value` after `sample.py`, `train.py` or `eval.py` on one command line (a shell
    line's `\\` continuations joined, up to a `|` or `&&`) is a knob of that script, as
    `configurator.knobs` lists them;
  - a Python file given to eval.py (`eval.py experiments/<file>` in experiments/README.md or in an
    experiments/ script) is an eval.py config file: the knobs it sets are eval.py's, and its rows parse
    (`eval.parse_rows` checks keys, modes and values without loading a model).
- README.md, RESULTS.md and experiments/README.md name results by dates and commits, never by
  "round N", "this round", "last round", "rounds ago", "this session", "issue N" or "attempt N".
"""

import fnmatch
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = ('README.md', 'RESULTS.md', os.path.join('experiments', 'README.md'))
PRODUCT_SCRIPTS = ('sample', 'train', 'eval')


def read(*path):
    with open(os.path.join(ROOT, *path), encoding='utf-8') as f:
        return f.read()


def files(folder):
    path = os.path.join(ROOT, folder)
    return sorted(f for f in os.listdir(path) if os.path.isfile(os.path.join(path, f)))


def experiment_scripts():
    return [f for f in files('experiments') if f != 'README.md']


def asset_paths(text):
    """Every assets/<file> path a document names (a link, a code span or plain text)."""
    return set(re.findall(r'(?<![\w/.-])assets/[\w.-]*\w', text))


def placeholders_to_glob(name):
    """Shell ($x, ${x}) and Python ({x}) placeholders in a file name become *."""
    return re.sub(r'\$\{\w+\}|\$\w+|\{[^{}]*\}', '*', name)


def written_checkpoints():
    """Globs of the checkpoint names that experiments/ scripts write themselves, directly or by a training
    preset they run (the preset's ship_name)."""
    out = set()
    texts = [read('experiments', script) for script in experiment_scripts()]
    presets = {p for text in texts for p in re.findall(r'\btrain\.py\s+(config/\w+\.py)', text)}
    for text in texts + [read(*p.split('/')) for p in sorted(presets) if os.path.isfile(os.path.join(ROOT, p))]:
        for value in re.findall(r'\b(?:ship_name|ship_ckpt_name|ckpt_name)\s*=\s*["\']?([^\s"\',)]+)', text):
            out.add(placeholders_to_glob(os.path.basename(value)))
    return out


def product_commands(text):
    """(script, knob) for every --key=value after sample.py, train.py or eval.py on a command line."""
    text = re.sub(r'\\\n', ' ', text)
    for line in text.splitlines():
        for m in re.finditer(r'(?<!\w)(sample|train|eval)\.py\b', line):
            rest = re.split(r'\||&&', line[m.end():])[0]
            rest = re.split(r'(?<!\w)(?:sample|train|eval)\.py\b', rest)[0]  # the next command's own
            for key in re.findall(r'--([A-Za-z_]\w*)=', rest):
                yield m.group(1), key


@pytest.fixture(scope='module')
def product():
    """The product scripts as modules, and their knobs."""
    import configurator
    import eval as evaluation
    import sample
    import train
    modules = {'sample': sample, 'train': train, 'eval': evaluation}
    return modules, {name: set(configurator.knobs(vars(m))) for name, m in modules.items()}


def test_every_asset_is_shown_and_every_named_asset_exists():
    shown = asset_paths(read('README.md')) | asset_paths(read('RESULTS.md'))
    unshown = [f'assets/{f}' for f in files('assets') if f'assets/{f}' not in shown]
    assert not unshown, f"in assets/ but named in neither README.md nor RESULTS.md: {', '.join(unshown)}"
    missing = [f"{doc}: {path}" for doc in DOCS for path in sorted(asset_paths(read(doc)))
               if not os.path.isfile(os.path.join(ROOT, path))]
    assert not missing, f"named but not in assets/: {'; '.join(missing)}"


def script_table():
    table = re.search(r'^\| script \|.*?(?=^[^|]|\Z)', read('experiments', 'README.md'), re.M | re.S)
    assert table, "experiments/README.md has no table whose header begins '| script |'"
    return table.group(0)


def eval_config_files():
    """The experiments/ Python files that experiments/README.md or an experiments/ script gives to eval.py."""
    texts = [read('experiments', 'README.md')] + [read('experiments', s) for s in experiment_scripts()]
    return {name for text in texts for name in re.findall(r'(?<!\w)eval\.py\s+experiments/(\w+\.py)\b', text)}


def test_every_experiment_is_listed_and_every_listed_one_exists():
    table = script_table()
    unlisted = [f for f in experiment_scripts() if f not in table]
    assert not unlisted, f"experiments/README.md's script table does not name {', '.join(unlisted)}"
    listed = [name for row in table.splitlines()[2:]
              for name in re.findall(r'`([^`]+)`', row.split('|')[1])]
    assert listed, "experiments/README.md's script table lists no script"
    missing = [n for n in listed if not os.path.isfile(os.path.join(ROOT, 'experiments', n))]
    assert not missing, f"experiments/README.md lists scripts that are not in experiments/: {', '.join(missing)}"


@pytest.mark.parametrize('script', experiment_scripts())
def test_checkpoints_and_presets_named_by_experiments_exist(script):
    text = read('experiments', script)
    shipped = files('checkpoints')
    written = written_checkpoints()
    bad = []
    for name in sorted(set(re.findall(r'ckpt_[\w${}]*\.pt', text))):
        glob = placeholders_to_glob(name)
        if not (any(fnmatch.fnmatch(f, glob) for f in shipped) or glob in written
                or any(fnmatch.fnmatch(glob, w) for w in written)):
            bad.append(f"checkpoint {name} (not in checkpoints/, and no experiments/ script writes it)")
    presets = files('config')
    for path in sorted(set(re.findall(r'(?<![\w/])config/[\w${}*]+\.py', text))):
        glob = placeholders_to_glob(os.path.basename(path))
        if not any(fnmatch.fnmatch(f, glob) for f in presets):
            bad.append(f"preset {path} (not in config/)")
    assert not bad, f"experiments/{script} names {'; '.join(bad)}"


@pytest.mark.parametrize('script', experiment_scripts())
def test_experiments_pass_only_knobs_the_product_scripts_have(script, product):
    modules, knobs = product
    text = read('experiments', script)
    bad = sorted({f"--{key} ({name}.py)" for name, key in product_commands(text) if key not in knobs[name]})
    assert not bad, f"experiments/{script} passes knobs that do not exist: {', '.join(bad)}"
    if script in eval_config_files():
        import configurator
        namespace = {'__name__': 'config', '__file__': os.path.join(ROOT, 'experiments', script)}
        exec(compile(text, namespace['__file__'], 'exec'), namespace)
        unknown = sorted(set(configurator.knobs(namespace)) - knobs['eval'])
        assert not unknown, f"experiments/{script}, an eval.py config file, sets knobs eval.py lacks: {unknown}"
        try:
            modules['eval'].parse_rows(namespace['rows'])
        except ValueError as e:
            pytest.fail(f"experiments/{script}: its rows do not parse: {e}")


OLD_WORDS = re.compile(r'\b(?:rounds?[ -]\d+|this round|last round|rounds? ago|this session'
                       r'|issues?[ -]?#?\d+|attempts?[ -]#?\d+)', re.I)


@pytest.mark.parametrize('doc', [
    'README.md',
    'RESULTS.md',
    os.path.join('experiments', 'README.md')])
def test_documents_name_dates_and_commits_not_rounds(doc):
    found = [f"line {n}: {m.group(0)!r}" for n, line in enumerate(read(doc).splitlines(), 1)
             for m in OLD_WORDS.finditer(line)]
    assert not found, f"{doc} says {len(found)} times what a date and a commit should: {'; '.join(found[:8])}"


def test_readme_is_a_manual_of_at_most_400_lines_whose_commands_name_real_files():
    text = read('README.md')
    assert len(text.splitlines()) <= 400, f"README.md has {len(text.splitlines())} lines"
    for path in sorted(set(re.findall(r'\b(config/\w+\.py|experiments/\w+\.(?:py|sh)|assets/[\w.-]+)', text))):
        assert os.path.isfile(os.path.join(ROOT, path)), f"README.md names {path}, which does not exist"
    assert '@@' not in text and 'TODO' not in text
