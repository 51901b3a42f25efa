"""
A GPT for masked diffusion: logits at every position, causal or bidirectional attention,
and the checkpoint and tokenizer plumbing that sample.py and train.py share.

The vocabulary is the tokenizer's base vocabulary followed by two special tokens, [MASK] and
[WRONG] (and, optionally, padding up to a friendlier size). Their ids and the base vocabulary
size are stored in every checkpoint, never guessed.
"""

import math
import os
import pickle
import re
import time
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn as nn
from torch.nn import functional as F

TRAINING_TYPES = ('unmasking', 'remasking', 'fill_and_judge', 'autoregressive')
ATTENTION_TYPES = ('causal', 'bidirectional')
DTYPES = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}  # by name, for the knobs


@dataclass
class GPTConfig:
    block_size: int = 1024
    vocab_size: int = 50304  # base vocabulary + [MASK] + [WRONG], padded up for speed
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    dropout: float = 0.0
    bias: bool = True  # bias in Linears and LayerNorms, like GPT-2
    attention_type: str = 'bidirectional'  # 'causal' | 'bidirectional'


class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (PyTorch's cannot switch it off)."""

    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class SelfAttention(nn.Module):

    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0, "n_embd must be a multiple of n_head"
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout
        self.is_causal = config.attention_type == 'causal'

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=self.is_causal)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
        self.attn = SelfAttention(config)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


class GPT(nn.Module):

    def __init__(self, config):
        super().__init__()
        if config.attention_type not in ATTENTION_TYPES:
            raise ValueError(f"attention_type must be one of {ATTENTION_TYPES}, got {config.attention_type!r}")
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying
        self.apply(self._init_weights)
        for pn, p in self.named_parameters():  # scaled init of the residual projections (GPT-2)
            if pn.endswith('c_proj.weight'):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def get_num_params(self, non_embedding=True):
        n_params = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n_params -= self.transformer.wpe.weight.numel()
        return n_params

    def forward(self, idx, targets=None, positions=None):
        """idx (B, T) token ids -> logits (B, T, V) at every position; with targets (B, T), also the
        mean cross-entropy over the positions whose target is not -1. With positions (B, N) long,
        the logits only there, (B, N, V): the vocabulary projection is skipped where nobody reads it."""
        B, T = idx.size()
        if T > self.config.block_size:
            raise ValueError(f"sequence of length {T} is longer than block_size {self.config.block_size}")
        pos = torch.arange(0, T, dtype=torch.long, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        if positions is not None:
            x = x.gather(1, positions[..., None].expand(-1, -1, x.size(-1)))  # (B, N, C)
        logits = self.lm_head(self.transformer.ln_f(x))  # (B, T or N, V)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1)
        return logits, loss

    def configure_optimizers(self, weight_decay, learning_rate, betas, device_type):
        """AdamW with weight decay on matrices only (nanoGPT)."""
        params = [p for p in self.parameters() if p.requires_grad]
        decay = [p for p in params if p.dim() >= 2]
        no_decay = [p for p in params if p.dim() < 2]
        groups = [{'params': decay, 'weight_decay': weight_decay}, {'params': no_decay, 'weight_decay': 0.0}]
        return torch.optim.AdamW(groups, lr=learning_rate, betas=betas, fused=device_type == 'cuda')

    def flops_per_token(self, seq_len=None):
        """Forward-pass FLOPs per token: 2 per weight (matmuls, lm_head included) plus attention's
        QK^T and AV (2 * 2 * T * n_embd per layer). Backward would be twice this again."""
        cfg = self.config
        T = seq_len or cfg.block_size
        n_matmul = self.get_num_params(non_embedding=True) - self.transformer.wte.weight.numel()
        n_matmul += self.lm_head.weight.numel()  # tied with wte, but the head is a real matmul
        return 2 * n_matmul + 4 * cfg.n_layer * T * cfg.n_embd


# -----------------------------------------------------------------------------
# the hardware, for model FLOP utilisation (train.py, bench.py, eval.py)

def device_name(device):
    """The GPU's name, or the CPU and its threads."""
    device = str(device)
    if device.startswith('cuda'):
        return torch.cuda.get_device_name(device)
    return f"CPU, {torch.get_num_threads()} threads"


def synchronize(device):
    """Wait for the device's queued work (a no-op on the CPU), so that a host clock times it."""
    if str(device).startswith('cuda'):
        torch.cuda.synchronize(device)


def matmul_peak(device, dtype, n=None):
    """The dense matrix-multiply rate (FLOP/s) this device reaches in dtype, measured: the best of a
    few n x n products (by default n = 8192 on a GPU, 2048 on the CPU). A shared CPU varies between
    runs, and CPU utilisation figures with it."""
    device = str(device)
    n = n or (8192 if device.startswith('cuda') else 2048)
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    a @ b  # warm-up
    best = math.inf
    for _ in range(5 if device.startswith('cuda') else 10):
        synchronize(device)
        t0 = time.perf_counter()
        for _ in range(4):
            a @ b
        synchronize(device)
        best = min(best, (time.perf_counter() - t0) / 4)
    return 2 * n ** 3 / best


# -----------------------------------------------------------------------------
# token-level math shared by sample.py (generation), train.py and the benchmarks
#
# Sampling is inverse-CDF: one uniform u per position, the token is the first whose cumulative
# probability reaches u. It needs one random number per position rather than one per vocabulary
# entry (as Gumbel-max or the exponential race do), so on CUDA it runs as one fused Triton kernel
# that reads the (bf16) logits twice and writes nothing but the token: no float32 copy, softmax or
# noise tensor of the logits' size. Elsewhere (the CPU, or no Triton) a torch implementation draws
# the same u and computes the same thing. The CDF is float64 in both (the kernel: float32 within a
# block of the vocabulary, float64 across blocks) and so is u: in float32, once the running total
# nears 1, a token of probability below its rounding step (6e-8) would be skipped or over-drawn.

def sample_tokens(logits, base_vocab_size, temperature, generator):
    """One token per position from softmax(logits / temperature) over the base vocabulary only, so
    [MASK], [WRONG] and padding ids can never be emitted: (B, L, V) -> (B, L) long. temperature 0 is
    greedy. A position whose logits hold a NaN gets base_vocab_size, never a real token (callers test
    for it: generate() raises), which is still a valid embedding index."""
    logits = logits[..., :base_vocab_size]
    if temperature == 0:
        tokens = logits.argmax(dim=-1)  # a NaN is the max, so the row's NaN is where it points
        return tokens.masked_fill(logits.gather(-1, tokens[..., None]).squeeze(-1).isnan(), base_vocab_size)
    u = 1 - torch.rand(logits.shape[:-1], device=logits.device, dtype=torch.float64, generator=generator)  # (0, 1]
    rows, u = _as_rows(logits), u.reshape(-1)
    if _use_triton(rows):
        return _triton_sample(rows, u, temperature).view(logits.shape[:-1])
    # in pieces of at most 2^25 logits, so the float64 copies stay small
    n = max(1, 2 ** 25 // rows.size(1))
    pieces = [_torch_sample(r, uc, temperature) for r, uc in zip(rows.split(n), u.split(n))]
    return torch.cat(pieces).view(logits.shape[:-1])


def log_normaliser(logits):
    """logsumexp over the last dimension in float32, (..., V) -> (...), without materialising a float32
    copy or softmax of the logits on CUDA (one fused pass); a NaN anywhere in a row gives NaN."""
    rows = _as_rows(logits)
    if _use_triton(rows):
        return _triton_logsumexp(rows).view(logits.shape[:-1])
    return torch.logsumexp(logits.float(), dim=-1)


def token_probability(logits, tokens):
    """softmax(logits)[tokens] at every position, (B, L, V), (B, L) -> (B, L), as
    exp(logit - logsumexp): the full softmax is never materialised."""
    return (logits.gather(-1, tokens[..., None]).squeeze(-1).float() - log_normaliser(logits)).exp()


def wrong_probability(logits, wrong_token_id):
    """P([WRONG]) at every position, (B, L, V) -> (B, L); NaN where the logits hold a NaN."""
    return (logits[..., wrong_token_id].float() - log_normaliser(logits)).exp()


def _as_rows(logits):
    """(..., V) -> a (R, V) view with unit stride along V (a copy only if no such view exists)."""
    if logits.stride(-1) != 1:
        logits = logits.contiguous()
    return logits.reshape(-1, logits.size(-1))


def _torch_sample(rows, u, temperature):
    """Inverse-CDF draw per row, (R, V) logits, (R,) float64 u in (0, 1] -> (R,) long."""
    cdf = torch.softmax(rows.double() / temperature, dim=-1).cumsum(dim=-1)
    total = cdf[:, -1]
    tokens = (cdf < (u * total)[:, None]).sum(dim=-1)  # the first token whose cumulative reaches u
    return tokens.masked_fill_(total.isnan(), rows.size(1))


triton = None  # Triton comes with PyTorch's CUDA builds; without it the torch code above runs instead
if torch.cuda.is_available() or os.environ.get('TRITON_INTERPRET') == '1':  # no slow import where no kernel runs
    try:
        import triton
        import triton.language as tl
    except ImportError:
        pass


FUSED_KERNELS = True  # False: the torch code even where the kernels could run (bench.py --kernels=False)


def fused_kernels_run_on(device):
    """Whether sample_tokens and log_normaliser use the fused kernels for tensors on device: on CUDA
    where Triton is installed, and anywhere under TRITON_INTERPRET=1 (the tests)."""
    return FUSED_KERNELS and triton is not None and \
        (torch.device(device).type == 'cuda' or os.environ.get('TRITON_INTERPRET') == '1')


def _use_triton(rows):
    return rows.numel() > 0 and fused_kernels_run_on(rows.device)


def _launch(n_cols):
    """The kernels' block of the vocabulary and warps per row."""
    block = min(2048, triton.next_power_of_2(n_cols))
    return dict(BLOCK=block, num_warps=8 if n_cols >= 2048 else 4)


if triton is not None:

    @triton.jit
    def _row_max_and_sum(row, n_cols, temperature, BLOCK: tl.constexpr):
        """Online softmax statistics of row[:n_cols] / temperature: (max, sum of exp(x - max)),
        kept per lane and combined at the end, so each lane adds only n_cols / BLOCK terms."""
        cols = tl.arange(0, BLOCK)
        m = tl.full([BLOCK], -1e30, tl.float32)
        s = tl.zeros([BLOCK], tl.float32)
        for start in range(0, n_cols, BLOCK):
            x = tl.load(row + start + cols, mask=start + cols < n_cols, other=-float('inf')).to(tl.float32)
            x = x / temperature
            m_new = tl.maximum(m, x)
            s = s * tl.exp(m - m_new) + tl.exp(x - m_new)  # a NaN in x makes s NaN
            m = m_new
        m_row = tl.max(m, axis=0)
        return m_row, tl.sum(s * tl.exp(m - m_row), axis=0)

    @triton.jit
    def _logsumexp_kernel(logits, stride, n_cols, out, BLOCK: tl.constexpr):
        r = tl.program_id(0).to(tl.int64)
        m, s = _row_max_and_sum(logits + r * stride, n_cols, 1.0, BLOCK)
        tl.store(out + r, m + tl.log(s))

    @triton.jit
    def _sample_kernel(logits, stride, n_cols, temperature, u, out, BLOCK: tl.constexpr):
        r = tl.program_id(0).to(tl.int64)
        row = logits + r * stride
        m, s = _row_max_and_sum(row, n_cols, temperature, BLOCK)
        target = tl.load(u + r) * s.to(tl.float64)  # the cumulative mass to reach, float64
        cols = tl.arange(0, BLOCK)
        below = 0  # tokens whose cumulative mass is below target
        last = -1  # the last token of nonzero probability seen (a floor for rounding at the end)
        cum = tl.zeros([], tl.float64)  # mass of the blocks before this one
        start = 0
        while (start < n_cols) & (cum < target):  # stop at the block where the target is reached
            valid = start + cols < n_cols
            x = tl.load(row + start + cols, mask=valid, other=-float('inf')).to(tl.float32)
            e = tl.exp(x / temperature - m)
            c = tl.cumsum(e, axis=0)  # float32 within the block: its own scale, no large total to round
            below += tl.sum(((c < (target - cum).to(tl.float32)) & valid).to(tl.int32), axis=0)
            last = tl.maximum(last, tl.max(tl.where(valid & (e > 0), start + cols, -1), axis=0))
            cum += tl.sum(e, axis=0).to(tl.float64)
            start += BLOCK
        token = tl.minimum(below, last)
        tl.store(out + r, tl.where(s > 0, token, n_cols).to(tl.int64))  # NaN or all -inf: n_cols

    def _triton_logsumexp(rows):
        out = torch.empty(rows.size(0), device=rows.device, dtype=torch.float32)
        _logsumexp_kernel[(rows.size(0),)](rows, rows.stride(0), rows.size(1), out, **_launch(rows.size(1)))
        return out

    def _triton_sample(rows, u, temperature):
        out = torch.empty(rows.size(0), device=rows.device, dtype=torch.long)
        _sample_kernel[(rows.size(0),)](rows, rows.stride(0), rows.size(1), float(temperature), u, out,
                                        **_launch(rows.size(1)))
        return out


# -----------------------------------------------------------------------------
# tokenizers, described in checkpoints as plain data:
#   {'type': 'char', 'chars': ['\n', ' ', '!', ...]}   (id i is chars[i])
#   {'type': 'tiktoken', 'encoding': 'gpt2'}

class CharTokenizer:

    def __init__(self, chars):
        self.chars = list(chars)
        self.stoi = {ch: i for i, ch in enumerate(self.chars)}
        self.vocab_size = len(self.chars)

    def encode(self, text):
        missing = sorted(set(text) - self.stoi.keys())
        if missing:
            raise ValueError(f"text has characters outside the vocabulary: {''.join(missing)[:40]!r}")
        return [self.stoi[c] for c in text]

    def decode(self, ids):
        return ''.join(self.chars[i] for i in ids)


class TiktokenTokenizer:

    def __init__(self, encoding):
        self.enc = encoding
        self.vocab_size = encoding.n_vocab

    def encode(self, text):
        return self.enc.encode_ordinary(text)

    def decode(self, ids):
        return self.enc.decode(list(ids))


def load_tiktoken(name):
    """tiktoken.get_encoding(name), with one clear error when its BPE files can't be fetched.
    tiktoken caches them in $TIKTOKEN_CACHE_DIR (default: a folder under the system temp dir)."""
    import tiktoken
    try:
        return tiktoken.get_encoding(name)
    except Exception as e:
        known = tiktoken.list_encoding_names()
        if name not in known:  # asked by name, not by exception type: a bad download raises ValueError too
            raise ValueError(f"unknown tiktoken encoding {name!r}; known: {', '.join(known)}") from None
        cache = os.environ.get('TIKTOKEN_CACHE_DIR', '(unset)')
        raise RuntimeError(
            f"tiktoken could not load the {name!r} BPE files (not cached, and the download failed: "
            f"{type(e).__name__}); copy them from a machine that has them into a folder and point "
            f"TIKTOKEN_CACHE_DIR at it (now {cache})") from None


def build_tokenizer(spec):
    kind = spec.get('type')
    if kind == 'char':
        return CharTokenizer(spec['chars'])
    if kind == 'tiktoken':
        return TiktokenTokenizer(load_tiktoken(spec['encoding']))
    raise ValueError(f"unknown tokenizer type {kind!r} (expected 'char' or 'tiktoken')")


def special_token_ids(base_vocab_size, pad_to=1):
    """The vocabulary layout used by this project: [MASK] and [WRONG] right after the base tokens,
    then (optionally) padding up to a multiple of pad_to. Returns (mask_id, wrong_id, vocab_size)."""
    mask_id, wrong_id = base_vocab_size, base_vocab_size + 1
    vocab_size = -(-(base_vocab_size + 2) // pad_to) * pad_to
    return mask_id, wrong_id, vocab_size


# -----------------------------------------------------------------------------
# checkpoints: nanoGPT's layout (model, model_args, config, iter_num, best_val_loss) plus
# training_type, the special token ids and the tokenizer, all plain data, so that
# torch.load(..., weights_only=True) reads them.

class _PlainUnpickler(pickle.Unpickler):
    """Unpickles plain dicts, lists, strings and numbers; refuses anything that names a global."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: meta.pkl may hold only plain data")


def read_meta_pkl(path):
    try:
        with open(path, 'rb') as f:
            return _PlainUnpickler(f).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
        raise ValueError(f"cannot read {path}: {type(e).__name__}: {e}") from None


def save_checkpoint(path, model, *, training_type, tokenizer, base_vocab_size, mask_token_id, wrong_token_id,
                    config=None, iter_num=0, best_val_loss=None, optimizer=None, weights_dtype=None):
    """Save model (unwrapped from DDP/compile) with everything needed to use it. weights_dtype=torch.float16
    halves the file; load_checkpoint casts back to the dtype asked for."""
    assert training_type in TRAINING_TYPES, training_type
    path = os.fspath(path)  # a pathlib.Path too
    model = getattr(model, 'module', model)  # DDP
    model = getattr(model, '_orig_mod', model)  # torch.compile
    # on the CPU, so the file loads anywhere; one copy per shared tensor, so tied weights (wte, lm_head)
    # stay one tensor in the file
    copies = {}

    def _portable(v):
        dtype = weights_dtype if weights_dtype is not None and v.is_floating_point() else v.dtype
        key = (v.untyped_storage().data_ptr(), v.storage_offset(), tuple(v.shape), v.stride(), v.dtype)
        if key not in copies:
            copies[key] = v.detach().to(device='cpu', dtype=dtype)
        return copies[key]
    state = {k: _portable(v) for k, v in model.state_dict().items()}
    ckpt = {
        'model': state,
        'model_args': asdict(model.config),
        'config': dict(config or {}),
        'iter_num': int(iter_num),
        'best_val_loss': None if best_val_loss is None else float(best_val_loss),
        'training_type': training_type,
        'base_vocab_size': int(base_vocab_size),
        'mask_token_id': int(mask_token_id),
        'wrong_token_id': int(wrong_token_id),
        'tokenizer': dict(tokenizer),
    }
    if optimizer is not None:
        ckpt['optimizer'] = optimizer.state_dict()
    tmp = path + '.tmp'
    torch.save(ckpt, tmp)
    os.replace(tmp, path)  # never leave a half-written checkpoint behind


CHECKPOINT_IS = ("a checkpoint is what train.py writes: torch.save of a dict with the model's weights ('model') "
                 "and shape ('model_args'), readable with weights_only=True")


def _what_file(path, error):
    """A few words on what a file torch.load could not read is."""
    with open(path, 'rb') as f:
        head = f.read(512)
    if not head:
        return "empty"
    if head.startswith(b'PK\x03\x04'):  # a zip: torch.save's format, with something weights_only refuses
        named = re.search(r'GLOBAL ([\w.]+)', str(error))
        return (f"a torch.save archive of Python objects that weights_only loading refuses"
                f"{f' ({named.group(1)})' if named else ''}, not plain data")
    try:
        text = head.decode('utf-8')
        return f"text, not a checkpoint (it begins {text[:24]!r})"
    except UnicodeDecodeError:
        return f"binary data that is no torch.save archive (it begins {head[:8]!r})"


def load_checkpoint(path, device='cpu', dtype=torch.float32, data_dir='data'):
    """Load a checkpoint written by save_checkpoint (or by nanoGPT-style code, with a meta.pkl).
    Returns (model in eval mode on device and dtype, info) where info holds the plain metadata."""
    if not os.path.isfile(path):
        folder = os.path.dirname(path) or '.'
        held = sorted(f for f in os.listdir(folder) if f.endswith('.pt')) if os.path.isdir(folder) else None
        where = f"{folder}/ holds {', '.join(held) if held else 'no .pt files'}" if held is not None \
            else f"{folder}/ does not exist"
        raise FileNotFoundError(f"checkpoint {path} not found; {where}")
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:
        raise ValueError(f"cannot read checkpoint {path}: it is {_what_file(path, e)}; {CHECKPOINT_IS}") from None
    if not isinstance(ckpt, dict) or 'model' not in ckpt or 'model_args' not in ckpt:
        what = "a dict without 'model' and 'model_args'" if isinstance(ckpt, dict) else f"a {type(ckpt).__name__}"
        raise ValueError(f"{path} is not a model checkpoint: it holds {what}; {CHECKPOINT_IS}")
    info = {k: v for k, v in ckpt.items() if k not in ('model', 'optimizer')}
    info['path'] = path
    config = info.get('config') or {}
    info.setdefault('training_type', config.get('training_type'))
    if info['training_type'] not in TRAINING_TYPES:
        raise ValueError(f"{path} has training_type {info['training_type']!r}, expected one of {TRAINING_TYPES}")
    # vocabulary: from the checkpoint, else from a nanoGPT-style data/<dataset>/meta.pkl
    if 'tokenizer' not in info or 'mask_token_id' not in info:
        meta_path = os.path.join(data_dir, str(config.get('dataset')), 'meta.pkl')
        if not os.path.isfile(meta_path):
            raise ValueError(f"{path} records no tokenizer and special token ids, and there is no {meta_path} to read "
                             f"them from")
        meta = read_meta_pkl(meta_path)
        if 'tokenizer' not in info:
            itos = meta.get('itos')
            if not isinstance(itos, dict):
                raise ValueError(f"{meta_path} has no 'itos' character table")
            info['tokenizer'] = {'type': 'char', 'chars': [itos[i] for i in range(len(itos))]}
            info.setdefault('base_vocab_size', len(itos))
        for key in ('base_vocab_size', 'mask_token_id', 'wrong_token_id'):
            if key not in info:
                if key not in meta:
                    raise ValueError(f"neither {path} nor {meta_path} records {key}")
                info[key] = meta[key]
    args = dict(info['model_args'])
    args.setdefault('attention_type', 'bidirectional' if info['training_type'] != 'autoregressive' else 'causal')
    known = {f.name for f in fields(GPTConfig)}
    unknown = set(args) - known
    if unknown:
        raise ValueError(f"{path} has model_args this model.py does not know: {sorted(unknown)}")
    info['model_args'] = args
    model = GPT(GPTConfig(**args))
    prefix = '_orig_mod.'  # checkpoints saved from a compiled model by older code
    state = {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in ckpt['model'].items()}
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise ValueError(f"{path}: weights do not match its model_args: {str(e).splitlines()[0]}") from None
    if not 0 < info['base_vocab_size'] <= info['mask_token_id'] < args['vocab_size'] \
            or not info['base_vocab_size'] <= info['wrong_token_id'] < args['vocab_size'] \
            or info['mask_token_id'] == info['wrong_token_id']:
        raise ValueError(f"{path}: inconsistent special token ids (base_vocab_size={info['base_vocab_size']}, "
                         f"mask={info['mask_token_id']}, wrong={info['wrong_token_id']}, "
                         f"vocab_size={args['vocab_size']})")
    model.eval()
    model.to(device=device, dtype=dtype)
    return model, info
