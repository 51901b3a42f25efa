"""configurator.py: config files and --key=value overrides applied to a globals dict, --help, and the two
ways scripts use it (sample.py's configure(globals(), ...) and nanoGPT's exec(open('configurator.py').read()))."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the repo root, however pytest is started

from configurator import ConfigError, configure, help_text, knobs  # noqa: E402

SCRIPT = '''\
import sys
out_dir = 'checkpoints'  # where checkpoints live
checkpoint_name = 'ckpt.pt'  # the model to load
device = 'cpu'  # 'cpu', 'cuda', 'cuda:0', ...
compile = False  # torch.compile the model
batch_size = 8  # samples per batch
temperature = 1.0  # softmax temperature; 0 = greedy
verbose = True  # progress on stderr
threshold: float | None = None  # P([WRONG]) threshold; None: schedule mode
out_file: str | None = None  # append samples here as JSON lines
anything = None  # no annotation: takes any literal
_private = 1
'''


@pytest.fixture
def g(tmp_path):
    """The globals of SCRIPT, as the script itself would see them (with __file__, for --help's comments)."""
    path = tmp_path / 'script.py'
    path.write_text(SCRIPT)
    g = {'__file__': str(path), '__name__': 'script'}
    exec(compile(SCRIPT, str(path), 'exec'), g)
    return g


KNOBS = ['out_dir', 'checkpoint_name', 'device', 'compile', 'batch_size', 'temperature', 'verbose', 'threshold',
         'out_file', 'anything']


def config_file(tmp_path, text, name='cfg.py'):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def config_error(g, argv):
    with pytest.raises(ConfigError) as e:
        configure(g, argv)
    msg = str(e.value)
    assert '\n' not in msg, msg
    assert isinstance(e.value, ValueError)
    return msg


def test_knobs_are_the_plain_public_globals_in_order(g):
    assert knobs(g) == KNOBS  # not sys (a module), _private or the dunders
    assert configure(g, []) == KNOBS


# -----------------------------------------------------------------------------
# config files

def test_config_file_is_executed_over_the_globals_and_later_arguments_win(g, tmp_path):
    first = config_file(tmp_path, 'batch_size = 4\ndevice = "cuda"\nthreshold = 0.5\n', 'first.py')
    second = config_file(tmp_path, 'batch_size = 2\n', 'second.py')
    configure(g, [first, second, '--device=mps'])
    assert (g['batch_size'], g['device'], g['threshold']) == (2, 'mps', 0.5)
    configure(g, ['--batch_size=16', first])
    assert g['batch_size'] == 4


def test_config_file_may_compute_with_private_names_and_modules(g, tmp_path):
    # `compile` is a knob of this script, and the config file's own compile() must still work
    cfg = config_file(tmp_path, 'import math\n_n = 3\nbatch_size = _n * 2\ntemperature = math.sqrt(4)\n'
                                'compile = True\n')
    configure(g, [cfg])
    assert (g['batch_size'], g['temperature'], g['compile']) == (6, 2.0, True)


def test_config_file_int_for_float_knob_becomes_float(g, tmp_path):
    configure(g, [config_file(tmp_path, 'temperature = 2\nthreshold = 1\n')])
    assert g['temperature'] == 2.0 and type(g['temperature']) is float
    assert g['threshold'] == 1.0 and type(g['threshold']) is float


def test_missing_config_file(g, tmp_path):
    msg = config_error(g, [str(tmp_path / 'nope.py')])
    assert 'nope.py' in msg and 'not found' in msg


def test_a_missing_config_file_names_the_nearest_beside_it_or_in_config(g, tmp_path, monkeypatch):
    (tmp_path / 'config').mkdir()
    (tmp_path / 'config' / 'sample_mixed.py').write_text('seed = 1\n')
    (tmp_path / 'config' / 'notes.txt').write_text('')
    monkeypatch.chdir(tmp_path)
    assert 'not found; did you mean config/sample_mixed.py?' in config_error(g, ['sample_mixed.py'])
    assert 'not found; did you mean config/sample_mixed.py?' in config_error(g, ['config/sample_mixd.py'])
    assert 'did you mean' not in config_error(g, ['unlike_anything.py'])


def test_config_file_setting_an_unknown_knob(g, tmp_path):
    msg = config_error(g, [config_file(tmp_path, 'batch_size = 2\nbatchsize = 4\n')])
    assert "'batchsize'" in msg and 'unknown knob' in msg


@pytest.mark.parametrize('line, key, expected, given', [
    ("batch_size = 'abc'", 'batch_size', 'int', "'abc'"),
    ("batch_size = 2.5", 'batch_size', 'int', '2.5'),
    ("verbose = 1", 'verbose', 'bool', '1'),
    ("threshold = 'high'", 'threshold', 'float or None', "'high'"),
    ("checkpoint_name = None", 'checkpoint_name', 'str', 'None'),
    # regression: values that are not plain (a list, a dict) skipped the type check altogether
    ("batch_size = [1, 2]", 'batch_size', 'int', '[1, 2]'),
    ("temperature = {'t': 1}", 'temperature', 'float', "{'t': 1}"),
])
def test_config_file_setting_a_wrong_type(g, tmp_path, line, key, expected, given):
    cfg = config_file(tmp_path, line + '\n')
    msg = config_error(g, [cfg])
    assert cfg in msg and key in msg and expected in msg and given in msg


@pytest.mark.parametrize('text, what', [
    ('batch_size = = 2\n', 'SyntaxError'),
    ('batch_size = (\n\n', 'SyntaxError'),
    ('batch_size = 1 / 0\n', 'ZeroDivisionError'),
    ('batch_size = undefined_name\n', 'NameError'),
])
def test_config_file_that_fails_is_one_line(g, tmp_path, text, what):
    cfg = config_file(tmp_path, text)
    msg = config_error(g, [cfg])
    assert cfg in msg and what in msg


def test_config_file_with_explicit_keys_ignores_untouched_non_knobs(g, tmp_path):
    # regression: with keys= given, every other plain global (a constant like MIXED_DEFAULT_THRESHOLD)
    # was reported as "sets unknown knob" by any config file, even one that never mentions it
    g['MIXED_DEFAULT_THRESHOLD'] = 0.01
    configure(g, [config_file(tmp_path, 'batch_size = 3\n')], keys=KNOBS)
    assert g['batch_size'] == 3
    with pytest.raises(ConfigError, match="unknown knob 'MIXED_DEFAULT_THRESHOLD'"):  # setting it still is one
        configure(g, [config_file(tmp_path, 'MIXED_DEFAULT_THRESHOLD = 0.5\n', 'c2.py')], keys=KNOBS)


# -----------------------------------------------------------------------------
# --key=value

@pytest.mark.parametrize('arg, key, value', [
    ('--batch_size=16', 'batch_size', 16),
    ('--temperature=0.7', 'temperature', 0.7),
    ('--temperature=1e-3', 'temperature', 1e-3),
    ('--verbose=False', 'verbose', False),
    ("--out_dir='quoted'", 'out_dir', 'quoted'),
    ('--out_dir=runs/x', 'out_dir', 'runs/x'),
    ('--out_file=a=b.jsonl', 'out_file', 'a=b.jsonl'),  # split at the first '=' only
    ('--device=cuda:1', 'device', 'cuda:1'),  # not a literal: a string
    ('--checkpoint_name=2024', 'checkpoint_name', '2024'),  # a str knob keeps digits as text
    ('--checkpoint_name=True', 'checkpoint_name', 'True'),
    ('--out_dir=', 'out_dir', ''),
])
def test_override_values(g, arg, key, value):
    before = {k: g[k] for k in KNOBS if k != key}
    configure(g, [arg])
    assert g[key] == value and type(g[key]) is type(value)
    assert {k: g[k] for k in KNOBS if k != key} == before  # nothing else moved


@pytest.mark.parametrize('argv, value', [
    (['--anything=3'], 3),
    (['--anything=abc'], 'abc'),
    (['--anything=0.5'], 0.5),
    # regression: the type came from the current value, so after --anything=3 the knob had become
    # an int knob and None or a string were refused
    (['--anything=3', '--anything=None'], None),
    (['--anything=3', '--anything=abc'], 'abc'),
    (['--anything=[1, 2]', '--anything=None'], None),
])
def test_none_default_knob_takes_any_literal_and_none_again(g, argv, value):
    configure(g, argv)
    assert g['anything'] == value and type(g['anything']) is type(value)


def test_none_default_knob_set_by_a_config_file_can_be_reset(g, tmp_path):
    configure(g, [config_file(tmp_path, 'anything = 5\n'), '--anything=None'])
    assert g['anything'] is None


def test_annotated_float_or_none_knob(g):
    configure(g, ['--threshold=0.01'])
    assert g['threshold'] == 0.01
    configure(g, ['--threshold=1'])
    assert g['threshold'] == 1.0 and type(g['threshold']) is float
    configure(g, ['--threshold=None'])
    assert g['threshold'] is None
    msg = config_error(g, ['--threshold=high'])
    assert msg == "--threshold expects float or None, got 'high' (str)"
    assert g['threshold'] is None


def test_annotated_str_or_none_knob(g):
    configure(g, ['--out_file=samples.jsonl'])
    assert g['out_file'] == 'samples.jsonl'
    configure(g, ['--out_file=None'])
    assert g['out_file'] is None
    configure(g, ['--out_file=42'])
    assert g['out_file'] == '42'


def test_int_for_float_knob_becomes_float(g):
    configure(g, ['--temperature=2'])
    assert g['temperature'] == 2.0 and type(g['temperature']) is float


@pytest.mark.parametrize('raw, value', [('True', True), ('False', False), ('true', True), ('false', False),
                                        ('FALSE', False)])
def test_bool_knob_accepts_true_and_false(g, raw, value):
    g['verbose'] = not value
    configure(g, [f'--verbose={raw}'])
    assert g['verbose'] is value


@pytest.mark.parametrize('arg, key, expected, given_type', [
    ('--verbose=1', 'verbose', 'bool', 'int'),
    ('--verbose=yes', 'verbose', 'bool', 'str'),
    ('--verbose=None', 'verbose', 'bool', 'NoneType'),
    ('--batch_size=True', 'batch_size', 'int', 'bool'),
    ('--batch_size=2.5', 'batch_size', 'int', 'float'),
    ('--batch_size=abc', 'batch_size', 'int', 'str'),
    ('--temperature=True', 'temperature', 'float', 'bool'),
    ('--temperature=hot', 'temperature', 'float', 'str'),
    ('--checkpoint_name=None', 'checkpoint_name', 'str', 'NoneType'),
])
def test_wrong_type_is_one_line_naming_key_expected_and_given(g, arg, key, expected, given_type):
    before = dict(g)
    msg = config_error(g, [arg])
    raw = arg.split('=', 1)[1]
    assert msg == f'--{key} expects {expected}, got {raw!r} ({given_type})'  # as typed, then as parsed
    assert g == before  # nothing applied


def test_unknown_key_suggests_a_near_miss(g):
    msg = config_error(g, ['--batch_sise=4'])
    assert msg == 'unknown knob --batch_sise; did you mean --batch_size?'
    msg = config_error(g, ['--zzz=4'])
    assert 'unknown knob --zzz' in msg and 'did you mean' not in msg and '--help' in msg


def test_a_misspelled_knob_in_a_config_file_gets_a_did_you_mean(g, tmp_path):
    (tmp_path / 'preset.py').write_text("batch_sise = 4\n")
    msg = config_error(g, [str(tmp_path / 'preset.py')])
    assert msg == f"config file {tmp_path / 'preset.py'} sets unknown knob 'batch_sise'; did you mean batch_size?"


def test_private_names_are_not_knobs(g):
    assert 'unknown knob --_private' in config_error(g, ['--_private=2'])


@pytest.mark.parametrize('arg', ['--batch_size', '-k=1', '-batch_size=1', '--=3', '--'])
def test_malformed_arguments(g, arg):
    msg = config_error(g, [arg])
    # regression for '--=3': it was reported as "unknown knob --", naming no key
    assert msg.startswith(f'malformed argument {arg!r}: expected --key=value'), msg


def test_explicit_keys_limit_the_knobs(g):
    configure(g, ['--batch_size=2'], keys=['batch_size'])
    assert g['batch_size'] == 2
    with pytest.raises(ConfigError, match='unknown knob --device'):
        configure(g, ['--device=cuda'], keys=['batch_size'])


# -----------------------------------------------------------------------------
# --help

def help_lines(text):
    """{knob: (default repr, comment)} from help output lines '  --key = default  comment'."""
    out = {}
    for line in text.splitlines():
        m = re.match(r'^  --(\w+)\s+= (.*?)(?:\s{2,}(.*))?$', line)
        if m:
            out[m.group(1)] = (m.group(2).strip(), m.group(3) or '')
    return out


def script_comments(source):
    """{name: comment} of the `name = value  # comment` lines in source."""
    return {m.group(1): m.group(2) for m in re.finditer(r'^(\w+)\s*(?::[^=\n]*)?=[^#\n]*#\s*(.*)$', source, re.M)}


@pytest.mark.parametrize('flag', ['--help', '-h'])
def test_help_lists_every_knob_with_default_and_comment(g, capsys, flag):
    with pytest.raises(SystemExit) as e:
        configure(g, ['--batch_size=3', flag, '--not_reached=1'])
    assert e.value.code in (0, None)
    out = capsys.readouterr().out
    assert out.startswith('usage: python script.py [config_file.py ...] [--key=value ...]')
    listed = help_lines(out)
    assert list(listed) == KNOBS
    comments = script_comments(SCRIPT)
    for k in KNOBS:
        assert listed[k] == (repr(g[k]), comments[k]), k
    assert listed['batch_size'][0] == '3'  # shows the value after the arguments before --help


def test_help_text_without_a_script_file_has_no_comments():
    text = help_text({'seed': 1, 'name': 'x'}, ['seed', 'name'])
    assert help_lines(text) == {'seed': ('1', ''), 'name': ("'x'", '')}


# -----------------------------------------------------------------------------
# the scripts

def run(args, cwd):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_sample_py_help_lists_every_knob():
    source = (REPO / 'sample.py').read_text()
    block = source.split('# ' + '-' * 77)[1]  # the knob block between the first two rules
    assigned = {}  # name -> the expression of its default
    for node in ast.parse(block).body:
        target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
        assigned[target.id] = node.value
    assert len(assigned) >= 15 and 'remasking_confidence_threshold' in assigned
    comments = script_comments(block)

    r = run(['sample.py', '--help'], REPO)
    assert r.returncode == 0, r.stderr
    listed = help_lines(r.stdout)
    for name, value in assigned.items():
        assert name in listed, name
        default, comment = listed[name]
        assert comment == comments[name] != '', name
        try:
            assert default == repr(ast.literal_eval(value)), name
        except ValueError:  # computed ('cuda' if torch.cuda.is_available() else 'cpu'): one of its literals
            options = [n.value for n in ast.walk(value) if isinstance(n, ast.Constant)]
            assert ast.literal_eval(default) in options, name
    assert listed['remasking_confidence_threshold'][0] == 'None'


EXEC_SCRIPT = '''\
seed = 1337  # random seed
threshold: float | None = None  # P([WRONG]) threshold
name = 'run'  # a name
exec(open({configurator!r}).read())
print(repr(seed), repr(threshold), repr(name))
'''


@pytest.fixture
def exec_script(tmp_path):
    path = tmp_path / 'train.py'
    path.write_text(EXEC_SCRIPT.format(configurator=str(REPO / 'configurator.py')))
    return str(path)


def test_nanogpt_exec_style_applies_overrides(exec_script, tmp_path):
    cfg = config_file(tmp_path, "name = 'from_config'\nseed = 5\n")
    r = run([exec_script, cfg, '--seed=7', '--threshold=1'], tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "7 1.0 'from_config'"
    r = run([exec_script], tmp_path)
    assert r.stdout.strip() == "1337 None 'run'"


@pytest.mark.parametrize('args, message', [
    (['--seed=abc'], "error: --seed expects int, got 'abc' (str)"),
    (['--sede=1'], 'error: unknown knob --sede; did you mean --seed?'),
    (['--threshold=high'], "error: --threshold expects float or None, got 'high' (str)"),
    (['nope.py'], 'error: config file nope.py not found'),
])
def test_nanogpt_exec_style_bad_override_exits_with_one_line(exec_script, tmp_path, args, message):
    r = run([exec_script, *args], tmp_path)
    assert r.returncode != 0
    assert r.stdout == ''  # the script stopped before its print
    assert 'Traceback' not in r.stderr
    assert r.stderr.count('\n') == 1 and r.stderr.startswith(message), r.stderr


def test_nanogpt_exec_style_help(exec_script, tmp_path):
    r = run([exec_script, '--help'], tmp_path)
    assert r.returncode == 0
    assert help_lines(r.stdout) == {'seed': ('1337', 'random seed'), 'threshold': ('None', 'P([WRONG]) threshold'),
                                    'name': ("'run'", 'a name')}


@pytest.mark.parametrize('script', ['sample.py', 'train.py', 'eval.py', 'bench.py'])
def test_every_knob_has_one_short_comment_that_help_prints(script):
    """Each knob is documented once, on its line: a comment of at most 100 columns, which --help prints."""
    import importlib
    module = importlib.import_module(script[:-3])
    g = vars(module)
    import configurator
    comments = configurator._comments(g)
    for knob in module._knobs:
        assert comments.get(knob), f"{script}: --{knob} has no comment"
        assert len(comments[knob]) <= 100, f"{script}: --{knob}'s comment is {len(comments[knob])} columns"
        assert comments[knob] in configurator.help_text(g, module._knobs)
