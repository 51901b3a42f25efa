"""
Poor Man's Configurator, after nanoGPT's, with its sharp edges filed off.

A script keeps its knobs as plain module globals and hands them over:

    from configurator import configure
    configure(globals(), sys.argv[1:])

    $ python sample.py config/sample_mixed.py --seed=7 --remasking_confidence_threshold=0.02

- a bare argument is a config file, executed over the globals (later arguments win);
- --key=value overrides a knob; value is read as a Python literal (True, 0.5, 'x', None), and
  anything that is not a literal is taken as a string (--device=cuda:1, --out_file=a=b.jsonl);
- the value must fit the knob's type, which is the annotation if the script gives one
  (`threshold: float | None = None`), else the type of the default. An int is accepted for a
  float knob; None only where the annotation or a None default allows it, and a knob whose
  default is None takes any literal;
- --help gives the first paragraph of the script's docstring, then every knob with its default and
  the comment on its line.

Bad input raises ConfigError (a ValueError) with one line naming the key, what was expected and
what was given. nanoGPT scripts that do `exec(open('configurator.py').read())` still work: the
overrides are applied to the caller's globals, and an error exits with that one line.
"""

import ast
import builtins
import difflib
import os
import re
import sys
import types

KNOB_TYPES = (bool, int, float, str, type(None))


class ConfigError(ValueError):
    pass


def knobs(g):
    """The configurable globals: public names bound to plain values, in definition order."""
    return [k for k, v in g.items() if not k.startswith('_') and isinstance(v, KNOB_TYPES)]


def _allowed(g, key):
    """The type(s) key accepts, or None for 'any literal'."""
    ann = g.get('__annotations__', {}).get(key)
    if ann is not None:
        return ann.__args__ if isinstance(ann, types.UnionType) else (ann,)
    default = g.get(key)  # a key with no default takes any literal
    return None if default is None else (type(default),)


def _type_names(allowed):
    return ' or '.join('None' if t is type(None) else t.__name__ for t in allowed)


def _coerce(key, value, allowed, raw=None):
    """Check value against the allowed types, converting int->float where a float is expected."""
    if allowed is None:
        return value
    if type(value) in allowed:
        return value
    if float in allowed and type(value) is int:
        return float(value)
    if str in allowed and raw is not None and value is not None:
        return raw  # --checkpoint_name=2024 means the string '2024'
    if bool in allowed and isinstance(raw, str) and raw.lower() in ('true', 'false'):
        return raw.lower() == 'true'
    given = f"{raw!r}" if raw is not None else f"{value!r}"
    raise ConfigError(f"--{key} expects {_type_names(allowed)}, got {given} ({type(value).__name__})")


def parse_literal(raw):
    """A Python literal (True, 0.5, 'x', None), else the plain string."""
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return raw  # not a literal: a string


def _comments(g):
    """Trailing comments of `key = value  # comment` lines in the script that owns g."""
    path = g.get('__file__')
    if not path or not os.path.isfile(path):
        return {}
    found = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            m = re.match(r"^([A-Za-z_]\w*)\s*(?::[^=]*)?=[^#]*#\s*(.*)$", line)
            if m and m.group(1) not in found:
                found[m.group(1)] = m.group(2).strip()
    return found


def help_text(g, keys):
    comments = _comments(g)
    script = os.path.basename(g.get('__file__', 'script.py'))
    lines = [f"usage: python {script} [config_file.py ...] [--key=value ...]", ""]
    about = (g.get('__doc__') or '').strip().split('\n\n')[0]
    if about:
        lines += [about, ""]
    lines.append("knobs (default, what it does):")
    width = max((len(k) for k in keys), default=0)
    for k in keys:
        default = repr(g[k]) if len(repr(g[k])) <= 60 else repr(g[k])[:56] + ' ...'  # a long one, cut short
        lines.append(f"  --{k:<{width}} = {default:<32} {comments.get(k, '')}".rstrip())
    return '\n'.join(lines)


def _exec_config_file(path, g, keys, defaults):
    if not os.path.isfile(path):
        raise ConfigError(f"config file {path} not found{_close_config(path)} (a bare argument is a config file; "
                          f"knobs are --key=value)")
    before = dict(g)
    with open(path, encoding='utf-8') as f:
        source = f.read()
    try:
        exec(builtins.compile(source, path, 'exec'), g)  # `compile` may be a knob
    except Exception as e:
        raise ConfigError(f"config file {path} failed: {type(e).__name__}: {e}") from None
    unset = object()
    for k, v in list(g.items()):
        if k.startswith('_') or v is before.get(k, unset):
            continue  # private, or left as it was
        if k in keys:  # checked whatever it was set to: a list for an int knob is an error too
            try:
                g[k] = _coerce(k, v, _allowed(defaults, k))
            except ConfigError as e:
                raise ConfigError(f"config file {path}: {e}") from None
        elif isinstance(v, KNOB_TYPES):
            raise ConfigError(f"config file {path} sets unknown knob {k!r}{_did_you_mean(k, keys)}")


def _close_config(path):
    """'; did you mean config/x.py?' for the nearest .py file beside path or in a config/ folder, or ''."""
    folder = os.path.dirname(path)
    found = [os.path.join(d, f) for d in dict.fromkeys([folder, os.path.join(folder, 'config'), 'config'])
             if os.path.isdir(d or '.') for f in sorted(os.listdir(d or '.')) if f.endswith('.py')]
    close = difflib.get_close_matches(path, found, n=1)
    return f"; did you mean {close[0]}?" if close else ""


def _did_you_mean(key, keys, prefix=''):
    close = difflib.get_close_matches(key, keys, n=1)
    return f"; did you mean {prefix}{close[0]}?" if close else "; see --help for the knobs"


def configure(g, argv, keys=None):
    """Apply config files and --key=value overrides in argv to the globals dict g.
    keys: the knob names (default: every plain public global of g). Returns the knob names."""
    keys = list(keys) if keys is not None else knobs(g)
    defaults = dict(g)  # a knob's type comes from its default, not from an earlier override
    for arg in argv:
        if arg in ('-h', '--help'):
            print(help_text(g, keys))
            sys.exit(0)
        if not arg.startswith('-'):
            _exec_config_file(arg, g, keys, defaults)
            continue
        if not arg.startswith('--') or '=' not in arg or arg.startswith('--='):
            raise ConfigError(f"malformed argument {arg!r}: expected --key=value (or a config file path)")
        key, raw = arg[2:].split('=', 1)  # split once: values may contain '='
        if key not in keys:
            raise ConfigError(f"unknown knob --{key}{_did_you_mean(key, keys, '--')}")
        g[key] = _coerce(key, parse_literal(raw), _allowed(defaults, key), raw)
    return keys


def run_main(main, *args):
    """End a script the way every script here ends: main(*args), where bad input (a ValueError, which
    ConfigError is, a FileNotFoundError or a RuntimeError) becomes one line `error: ...` on stderr and
    exit code 1, never a traceback; Ctrl-C one line (the script's own, if it raised a KeyboardInterrupt
    with one: what it kept) and exit code 130; a stdout closed early (`| head`) is not an error of ours."""
    try:
        main(*args)
    except (ValueError, FileNotFoundError, RuntimeError) as e:
        sys.exit(f"error: {e}")
    except KeyboardInterrupt as e:
        print(str(e) or 'interrupted', file=sys.stderr, flush=True)
        sys.exit(130)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # keep Python's exit flush quiet
        sys.exit(1)


if __name__ == '__main__':  # exec(open('configurator.py').read()) inside a nanoGPT-style script
    try:
        configure(globals(), sys.argv[1:])
    except ConfigError as e:
        sys.exit(f"error: {e}")
