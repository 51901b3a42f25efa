"""model.py on CPU with tiny models: the GPT's forward pass, checkpoints, tokenizers and the vocabulary layout."""

import os
import pickle
import sys
from pathlib import Path

import pytest
import requests
import tiktoken
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root, however pytest is started

from model import (  # noqa: E402
    GPT,
    CharTokenizer,
    GPTConfig,
    TiktokenTokenizer,
    build_tokenizer,
    load_checkpoint,
    load_tiktoken,
    save_checkpoint,
    special_token_ids,
)

CHARS = list('\n abcdefg')  # base vocabulary of 9 characters
BASE = len(CHARS)
MASK_ID, WRONG_ID, VOCAB = special_token_ids(BASE, pad_to=4)  # 9, 10, 12


def tiny_gpt(attention_type='bidirectional', seed=0, **overrides):
    torch.manual_seed(seed)
    args = dict(block_size=16, vocab_size=VOCAB, n_layer=2, n_head=2, n_embd=16, attention_type=attention_type)
    args.update(overrides)
    return GPT(GPTConfig(**args)).eval()


def random_tokens(B, T, seed=1, high=BASE):
    return torch.randint(0, high, (B, T), generator=torch.Generator().manual_seed(seed))


def save(path, m, **overrides):
    kwargs = dict(training_type='unmasking', tokenizer={'type': 'char', 'chars': CHARS}, base_vocab_size=BASE,
                  mask_token_id=MASK_ID, wrong_token_id=WRONG_ID)
    kwargs.update(overrides)
    save_checkpoint(str(path), m, **kwargs)
    return str(path)


def rewrite(path, edit):
    """Load a checkpoint file as plain data, let edit(ckpt) change it, save it back."""
    ckpt = torch.load(path, weights_only=True)
    edit(ckpt)
    torch.save(ckpt, path)


@torch.no_grad()
def logits_of(m, idx):
    return m(idx)[0]


# -----------------------------------------------------------------------------
# the GPT

@pytest.mark.parametrize('attention_type', ['causal', 'bidirectional'])
def test_forward_returns_logits_at_every_position(attention_type):
    m = tiny_gpt(attention_type)
    idx = random_tokens(3, 7)
    logits, loss = m(idx)
    assert logits.shape == (3, 7, VOCAB)
    assert loss is None
    assert torch.isfinite(logits).all()
    # a full-length sequence works too
    assert m(random_tokens(2, 16))[0].shape == (2, 16, VOCAB)


@pytest.mark.parametrize('attention_type', ['causal', 'bidirectional'])
def test_loss_ignores_targets_of_minus_one(attention_type):
    m = tiny_gpt(attention_type)
    idx = random_tokens(2, 6)
    targets = random_tokens(2, 6, seed=2)
    keep = torch.tensor([[1, 0, 1, 0, 0, 1], [0, 0, 1, 1, 0, 0]], dtype=torch.bool)
    with torch.no_grad():
        logits, loss = m(idx, torch.where(keep, targets, -1))
        _, loss_all = m(idx, targets)
    torch.testing.assert_close(loss, F.cross_entropy(logits[keep], targets[keep]))
    torch.testing.assert_close(loss_all, F.cross_entropy(logits.flatten(0, 1), targets.flatten()))
    assert not torch.isclose(loss, loss_all)


def test_causal_attention_ignores_later_tokens():
    m = tiny_gpt('causal')
    idx = random_tokens(2, 10)
    for j in (0, 4, 9):
        changed = idx.clone()
        changed[:, j] = (changed[:, j] + 1) % BASE
        a, b = logits_of(m, idx), logits_of(m, changed)
        torch.testing.assert_close(b[:, :j], a[:, :j], rtol=0, atol=1e-6)
        assert not torch.allclose(b[:, j], a[:, j])  # the changed position itself does see it


def test_bidirectional_attention_sees_later_tokens():
    m = tiny_gpt('bidirectional')
    idx = random_tokens(2, 10)
    changed = idx.clone()
    changed[:, -1] = (changed[:, -1] + 1) % BASE
    a, b = logits_of(m, idx), logits_of(m, changed)
    for i in range(9):  # every earlier position's logits move
        assert not torch.allclose(b[:, i], a[:, i], rtol=0, atol=1e-6), i


def test_sequence_longer_than_block_size_is_a_value_error():
    m = tiny_gpt()
    with pytest.raises(ValueError, match='longer than block_size 16'):
        m(random_tokens(1, 17))


def test_unknown_attention_type_is_a_value_error():
    with pytest.raises(ValueError, match="attention_type.*'sideways'"):
        tiny_gpt('sideways')


# -----------------------------------------------------------------------------
# checkpoints

def test_checkpoint_round_trip_gives_identical_logits_and_metadata(tmp_path):
    m = tiny_gpt('causal', seed=3)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
    m.train()
    m(random_tokens(2, 8), random_tokens(2, 8, seed=4))[1].backward()
    opt.step()  # the optimizer now holds state tensors, saved along
    m.eval()
    path = save(tmp_path / 'ckpt.pt', m, training_type='remasking', config={'dataset': 'shakespeare', 'lr': 1e-3},
                iter_num=123, best_val_loss=torch.tensor(1.25), optimizer=opt)

    raw = torch.load(path, map_location='cpu', weights_only=True)  # plain data only
    assert 'optimizer' in raw and raw['optimizer']['state']
    loaded, info = load_checkpoint(path)
    idx = random_tokens(3, 12)
    assert torch.equal(logits_of(loaded, idx), logits_of(m, idx))
    assert not loaded.training
    assert loaded.transformer.wte.weight is loaded.lm_head.weight  # still tied
    assert info['training_type'] == 'remasking'
    assert (info['base_vocab_size'], info['mask_token_id'], info['wrong_token_id']) == (BASE, MASK_ID, WRONG_ID)
    assert info['tokenizer'] == {'type': 'char', 'chars': CHARS}
    assert info['model_args'] == dict(block_size=16, vocab_size=VOCAB, n_layer=2, n_head=2, n_embd=16,
                                      dropout=0.0, bias=True, attention_type='causal')
    assert info['iter_num'] == 123 and type(info['iter_num']) is int
    assert info['best_val_loss'] == 1.25 and type(info['best_val_loss']) is float
    assert info['config'] == {'dataset': 'shakespeare', 'lr': 1e-3}
    assert info['path'] == path
    assert 'model' not in info and 'optimizer' not in info
    assert os.listdir(tmp_path) == ['ckpt.pt']  # no .tmp left behind


def test_save_checkpoint_accepts_a_pathlib_path(tmp_path):
    # regression: `path + '.tmp'` raised TypeError for a pathlib.Path
    m = tiny_gpt()
    save_checkpoint(tmp_path / 'ckpt.pt', m, training_type='unmasking', tokenizer={'type': 'char', 'chars': CHARS},
                    base_vocab_size=BASE, mask_token_id=MASK_ID, wrong_token_id=WRONG_ID)
    loaded, _ = load_checkpoint(tmp_path / 'ckpt.pt')
    idx = random_tokens(1, 5)
    assert torch.equal(logits_of(loaded, idx), logits_of(m, idx))


def test_float16_weights_make_a_smaller_file_that_loads_as_float32_or_bfloat16(tmp_path):
    m = tiny_gpt(seed=5)
    full = save(tmp_path / 'full.pt', m)
    half = save(tmp_path / 'half.pt', m, weights_dtype=torch.float16)
    assert os.path.getsize(half) < 0.7 * os.path.getsize(full)
    assert torch.load(half, weights_only=True)['model']['lm_head.weight'].dtype == torch.float16

    idx = random_tokens(2, 9)
    expected = logits_of(m, idx)
    as_f32, _ = load_checkpoint(half)
    assert all(p.dtype == torch.float32 for p in as_f32.parameters())
    torch.testing.assert_close(logits_of(as_f32, idx), expected, rtol=0, atol=2e-3)
    assert not torch.equal(logits_of(as_f32, idx), expected)  # really went through float16
    as_bf16, _ = load_checkpoint(half, dtype=torch.bfloat16)
    assert all(p.dtype == torch.bfloat16 for p in as_bf16.parameters())
    torch.testing.assert_close(logits_of(as_bf16, idx).float(), expected, rtol=0, atol=5e-2)


def test_float16_checkpoint_keeps_tied_weights_as_one_tensor(tmp_path):
    # regression: casting each state-dict entry on its own stored wte and lm_head twice, so a
    # float16 file of a model with a big vocabulary was 70% of the float32 one, not about half
    m = tiny_gpt(vocab_size=258, n_layer=1, n_embd=32)
    full = save(tmp_path / 'full.pt', m, base_vocab_size=256, mask_token_id=256, wrong_token_id=257)
    half = save(tmp_path / 'half.pt', m, weights_dtype=torch.float16, base_vocab_size=256, mask_token_id=256,
                wrong_token_id=257)
    state = torch.load(half, weights_only=True)['model']
    assert state['lm_head.weight'].untyped_storage().data_ptr() == \
        state['transformer.wte.weight'].untyped_storage().data_ptr()
    assert os.path.getsize(half) < 0.6 * os.path.getsize(full)
    loaded, _ = load_checkpoint(half)
    assert loaded.transformer.wte.weight is loaded.lm_head.weight


def test_legacy_orig_mod_prefix_loads(tmp_path):
    m = tiny_gpt(seed=6)
    path = save(tmp_path / 'ckpt.pt', m)
    rewrite(path, lambda c: c.update(model={'_orig_mod.' + k: v for k, v in c['model'].items()}))
    assert all(k.startswith('_orig_mod.') for k in torch.load(path, weights_only=True)['model'])
    loaded, _ = load_checkpoint(path)
    idx = random_tokens(2, 6)
    assert torch.equal(logits_of(loaded, idx), logits_of(m, idx))


class Wrapper(nn.Module):
    """Stands in for torch.compile's OptimizedModule (`_orig_mod`) or DDP (`module`): its state_dict
    keys carry the attribute's name as a prefix, as theirs do."""

    def __init__(self, attr, inner):
        super().__init__()
        setattr(self, attr, inner)


@pytest.mark.parametrize('attr', ['_orig_mod', 'module'])
def test_save_checkpoint_unwraps_compiled_and_ddp_models(tmp_path, attr):
    m = tiny_gpt(seed=7)
    wrapped = Wrapper(attr, m)
    assert all(k.startswith(attr + '.') for k in wrapped.state_dict())
    path = save(tmp_path / 'ckpt.pt', wrapped)
    keys = set(torch.load(path, weights_only=True)['model'])
    assert keys == set(m.state_dict())
    loaded, _ = load_checkpoint(path)
    idx = random_tokens(1, 8)
    assert torch.equal(logits_of(loaded, idx), logits_of(m, idx))


# -----------------------------------------------------------------------------
# load_checkpoint's errors

def test_missing_checkpoint_names_the_path_and_the_pt_files_beside_it(tmp_path):
    for name in ('b.pt', 'a.pt', 'notes.txt'):
        (tmp_path / name).write_bytes(b'')
    missing = str(tmp_path / 'ckpt.pt')
    with pytest.raises(FileNotFoundError) as e:
        load_checkpoint(missing)
    msg = str(e.value)
    assert missing in msg
    assert 'a.pt, b.pt' in msg and 'notes.txt' not in msg


def test_missing_checkpoint_in_a_missing_folder(tmp_path):
    missing = str(tmp_path / 'nowhere' / 'ckpt.pt')
    with pytest.raises(FileNotFoundError, match='does not exist') as e:
        load_checkpoint(missing)
    assert missing in str(e.value)


def test_missing_checkpoint_in_a_folder_without_checkpoints(tmp_path):
    with pytest.raises(FileNotFoundError, match='no .pt files'):
        load_checkpoint(str(tmp_path / 'ckpt.pt'))


@pytest.mark.parametrize('content, what', [
    (b'\x00\xc8N' + b'not a checkpoint', "it is binary data that is no torch.save archive (it begins b'\\x00"),
    (b'hello: not a checkpoint', "it is text, not a checkpoint (it begins 'hello: not a checkpoint')"),
    (b'', 'it is empty'),
])
def test_a_file_that_is_not_a_checkpoint_says_what_it_is_and_what_a_checkpoint_is(tmp_path, content, what):
    path = tmp_path / 'ckpt.pt'
    path.write_bytes(content)
    with pytest.raises(ValueError, match='cannot read checkpoint') as e:
        load_checkpoint(str(path))
    assert '\n' not in str(e.value) and '\x1b' not in str(e.value)
    assert what in str(e.value) and "a checkpoint is what train.py writes" in str(e.value)


class NotPlainData:
    pass


def test_a_torch_file_of_python_objects_names_the_object_weights_only_refuses(tmp_path):
    path = tmp_path / 'obj.pt'
    torch.save({'model': NotPlainData()}, path)
    with pytest.raises(ValueError) as e:
        load_checkpoint(str(path))
    assert 'weights_only loading refuses (test_model.NotPlainData), not plain data' in str(e.value)
    assert '\x1b' not in str(e.value) and '\n' not in str(e.value)


def test_torch_saved_non_checkpoint_is_a_value_error(tmp_path):
    path = str(tmp_path / 'list.pt')
    torch.save([torch.zeros(2), 3], path)
    with pytest.raises(ValueError, match="not a model checkpoint: it holds a list; a checkpoint is"):
        load_checkpoint(path)
    torch.save({'model': {}}, path)  # a dict, but no model_args
    with pytest.raises(ValueError, match="not a model checkpoint: it holds a dict without 'model' and"):
        load_checkpoint(path)


def test_unknown_training_type_is_a_value_error(tmp_path):
    path = save(tmp_path / 'ckpt.pt', tiny_gpt())
    rewrite(path, lambda c: c.update(training_type='denoising'))
    with pytest.raises(ValueError, match="'denoising'"):
        load_checkpoint(path)


@pytest.mark.parametrize('ids', [
    dict(mask_token_id=WRONG_ID),  # mask == wrong
    dict(mask_token_id=BASE - 1),  # inside the base vocabulary
    dict(wrong_token_id=VOCAB),  # outside the model's vocabulary
    dict(base_vocab_size=0),
])
def test_inconsistent_special_ids_are_a_value_error(tmp_path, ids):
    path = save(tmp_path / 'ckpt.pt', tiny_gpt())
    rewrite(path, lambda c: c.update(ids))
    with pytest.raises(ValueError, match='inconsistent special token ids'):
        load_checkpoint(path)


@pytest.mark.parametrize('args', [dict(n_embd=32), dict(n_layer=3), dict(vocab_size=VOCAB + 4)])
def test_weights_not_matching_model_args_are_a_value_error(tmp_path, args):
    path = save(tmp_path / 'ckpt.pt', tiny_gpt())
    rewrite(path, lambda c: c['model_args'].update(args))
    with pytest.raises(ValueError, match='weights do not match its model_args'):
        load_checkpoint(path)


def test_unknown_model_args_are_a_value_error(tmp_path):
    path = save(tmp_path / 'ckpt.pt', tiny_gpt())
    rewrite(path, lambda c: c['model_args'].update(rotary=True))
    with pytest.raises(ValueError, match="rotary"):
        load_checkpoint(path)


# -----------------------------------------------------------------------------
# nanoGPT-style checkpoints: vocabulary from data/<dataset>/meta.pkl

def nanogpt_checkpoint(tmp_path, m, **config):
    """A checkpoint as nanoGPT's train.py writes it: no tokenizer, no special ids, training_type in config."""
    path = save(tmp_path / 'ckpt.pt', m)

    def edit(c):
        for key in ('tokenizer', 'base_vocab_size', 'mask_token_id', 'wrong_token_id', 'training_type'):
            del c[key]
        c['config'] = {'dataset': 'x', 'training_type': 'unmasking', **config}
    rewrite(path, edit)
    return path


def write_meta(tmp_path, meta_bytes):
    folder = tmp_path / 'data' / 'x'
    folder.mkdir(parents=True)
    (folder / 'meta.pkl').write_bytes(meta_bytes)
    return str(tmp_path / 'data')


def test_meta_pkl_gives_a_char_tokenizer_and_special_ids(tmp_path):
    m = tiny_gpt(seed=8)
    path = nanogpt_checkpoint(tmp_path, m)
    meta = {'vocab_size': BASE + 2, 'itos': dict(enumerate(CHARS)), 'stoi': {c: i for i, c in enumerate(CHARS)},
            'mask_token_id': MASK_ID, 'wrong_token_id': WRONG_ID}
    data_dir = write_meta(tmp_path, pickle.dumps(meta))
    loaded, info = load_checkpoint(path, data_dir=data_dir)
    assert info['tokenizer'] == {'type': 'char', 'chars': CHARS}
    assert (info['base_vocab_size'], info['mask_token_id'], info['wrong_token_id']) == (BASE, MASK_ID, WRONG_ID)
    assert info['training_type'] == 'unmasking'
    tok = build_tokenizer(info['tokenizer'])
    assert tok.decode(tok.encode('bad cafe\n')) == 'bad cafe\n'
    idx = random_tokens(1, 8)
    assert torch.equal(logits_of(loaded, idx), logits_of(m, idx))


class Payload:
    """A class instance in a pickle: unpickling it would import this module."""


@pytest.mark.parametrize('kind', ['instance', 'call'])
def test_meta_pkl_naming_a_global_is_refused_without_running_it(tmp_path, kind):
    marker = tmp_path / 'pwned'

    class Call:
        def __reduce__(self):  # unpickling would call open(marker, 'w'), creating the file
            return (open, (str(marker), 'w'))
    evil = {'itos': dict(enumerate(CHARS)), 'mask_token_id': MASK_ID, 'wrong_token_id': WRONG_ID,
            'payload': Payload() if kind == 'instance' else Call()}
    data_dir = write_meta(tmp_path, pickle.dumps(evil))
    path = nanogpt_checkpoint(tmp_path, tiny_gpt())
    with pytest.raises((pickle.UnpicklingError, ValueError), match='refusing to load'):
        load_checkpoint(path, data_dir=data_dir)
    assert not marker.exists()


def test_meta_pkl_with_os_system_is_refused(tmp_path):
    marker = tmp_path / 'pwned'

    class System:
        def __reduce__(self):
            return (os.system, (f'touch {marker}',))
    data_dir = write_meta(tmp_path, pickle.dumps({'itos': System()}))
    with pytest.raises((pickle.UnpicklingError, ValueError), match=r'refusing to load (posix|nt|os)\.system'):
        load_checkpoint(nanogpt_checkpoint(tmp_path, tiny_gpt()), data_dir=data_dir)
    assert not marker.exists()


def test_corrupt_meta_pkl_is_a_value_error_naming_it(tmp_path):
    # regression: a truncated meta.pkl escaped as EOFError / UnpicklingError, which sample.py does not catch
    data_dir = write_meta(tmp_path, pickle.dumps({'itos': dict(enumerate(CHARS))})[:-5])
    with pytest.raises(ValueError, match='meta.pkl'):
        load_checkpoint(nanogpt_checkpoint(tmp_path, tiny_gpt()), data_dir=data_dir)


def test_missing_meta_pkl_is_a_value_error_naming_the_path(tmp_path):
    path = nanogpt_checkpoint(tmp_path, tiny_gpt())
    data_dir = str(tmp_path / 'data')
    with pytest.raises(ValueError) as e:
        load_checkpoint(path, data_dir=data_dir)
    assert os.path.join(data_dir, 'x', 'meta.pkl') in str(e.value)


# -----------------------------------------------------------------------------
# tokenizers

def test_char_tokenizer_round_trip():
    tok = CharTokenizer(CHARS)
    assert tok.vocab_size == BASE
    ids = tok.encode('a bad\nface')
    assert ids == [CHARS.index(c) for c in 'a bad\nface']
    assert tok.decode(ids) == 'a bad\nface'


def test_char_tokenizer_names_unknown_characters():
    with pytest.raises(ValueError, match="outside the vocabulary: 'XZ'"):
        CharTokenizer(CHARS).encode('aZbXa')


def test_build_tokenizer_char_and_unknown_type():
    tok = build_tokenizer({'type': 'char', 'chars': CHARS})
    assert isinstance(tok, CharTokenizer) and tok.chars == CHARS
    with pytest.raises(ValueError, match="unknown tokenizer type 'sentencepiece'"):
        build_tokenizer({'type': 'sentencepiece'})


@pytest.fixture
def byte_encoding():
    """A byte-level tiktoken encoding built here, so no BPE files need downloading."""
    return tiktoken.Encoding(name='bytes', pat_str=r"\S+|\s+", mergeable_ranks={bytes([i]): i for i in range(256)},
                             special_tokens={})


def test_tiktoken_tokenizer_round_trip(monkeypatch, byte_encoding):
    asked = []
    monkeypatch.setattr(tiktoken, 'get_encoding', lambda name: asked.append(name) or byte_encoding)
    tok = build_tokenizer({'type': 'tiktoken', 'encoding': 'gpt2'})
    assert asked == ['gpt2']
    assert isinstance(tok, TiktokenTokenizer) and tok.vocab_size == 256
    text = 'héllo, wörld ✓ <|endoftext|>'  # special-token text is encoded as ordinary text
    ids = tok.encode(text)
    assert ids == list(text.encode('utf-8'))
    assert tok.decode(ids) == text


@pytest.mark.parametrize('error', [
    requests.exceptions.ConnectionError('Max retries exceeded with url: /encodings/gpt2'),
    OSError('Network is unreachable'),
    # regression: a ValueError from a bad download was reported as "unknown tiktoken encoding 'gpt2'"
    ValueError('Hash mismatch for data downloaded from https://... (expected 1ce1664)'),
])
def test_tiktoken_download_failure_is_one_clear_error(monkeypatch, error, tmp_path):
    def fail(name):
        raise error
    monkeypatch.setattr(tiktoken, 'get_encoding', fail)
    monkeypatch.setenv('TIKTOKEN_CACHE_DIR', str(tmp_path / 'tiktoken-cache'))
    with pytest.raises(RuntimeError) as e:
        load_tiktoken('gpt2')
    msg = str(e.value)
    assert 'TIKTOKEN_CACHE_DIR' in msg and str(tmp_path / 'tiktoken-cache') in msg
    assert "'gpt2'" in msg and type(error).__name__ in msg
    assert e.value.__cause__ is None and e.value.__suppress_context__  # one error, not a chain


def test_tiktoken_download_failure_with_cache_dir_unset(monkeypatch):
    def fail(name):
        raise OSError('Network is unreachable')
    monkeypatch.setattr(tiktoken, 'get_encoding', fail)
    monkeypatch.delenv('TIKTOKEN_CACHE_DIR', raising=False)
    with pytest.raises(RuntimeError, match=r'TIKTOKEN_CACHE_DIR.*\(unset\)'):
        build_tokenizer({'type': 'tiktoken', 'encoding': 'gpt2'})


def test_unknown_tiktoken_encoding_is_a_value_error_listing_the_known_ones():
    with pytest.raises(ValueError, match="unknown tiktoken encoding 'gpt7'.*gpt2"):
        load_tiktoken('gpt7')


# -----------------------------------------------------------------------------
# vocabulary layout

@pytest.mark.parametrize('base, pad_to, expected', [
    (65, 1, (65, 66, 67)),  # shakespeare_char
    (50257, 1, (50257, 50258, 50259)),  # gpt2
    (50257, 64, (50257, 50258, 50304)),  # gpt2, padded as nanoGPT does
    (62, 64, (62, 63, 64)),  # already a multiple: no padding
    (63, 64, (63, 64, 128)),
])
def test_special_token_ids_layout(base, pad_to, expected):
    mask_id, wrong_id, vocab_size = special_token_ids(base, pad_to)
    assert (mask_id, wrong_id, vocab_size) == expected
    assert vocab_size % pad_to == 0 and vocab_size >= base + 2

