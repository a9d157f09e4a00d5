"""The default encoder: multilingual-e5-small run by ONNX Runtime, without torch.

The provisioned folder (e5_provision.py) holds `encoder.onnx`, the transformer from token
embeddings to mean-pooled vectors, and `word_embeddings.npy`, the 250k x 384 token-embedding
table (three quarters of the weights). Only the rows of the tokens being encoded are read from
the table (with pread), so none of it stays in the process's memory.

The vectors are SentenceTransformerEncoder's on the same folder (cosine >= 0.9999, see
tests/test_ort_encoder.py): same prompts, tokenizer, truncation, position ids, mean pooling and
normalisation. An index built by one is valid for the other; both carry the same name.
"""
from __future__ import annotations

import os
import queue
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from indexer.encoders.protocol import ProgressFn
from indexer.encoders.e5_layout import EMBEDDINGS_FILE, MAX_SEQ_LENGTH, ONNX_FILE, ONNX_MARKER, position_ids
from indexer.encoders.st import (
    BUILD_THREADS,
    QUERY_THREADS,
    EncoderLoadError,
    _dim_from_folder,
    _l2_normalise,
    _prompts_from_folder,
    _read_json,
)

REQUIRED_FILES = ("config.json", "tokenizer.json", ONNX_FILE, EMBEDDINGS_FILE)
# passages per run: small length-sorted batches cost the least CPU per passage (32 passages of
# ~300 tokens hold ~125 MB of attention scores per layer); the vectors do not depend on it
PASSAGE_BATCH = 4


def _how_to_fix(folder: Path) -> str:
    return (
        f"Run `python -m indexer.encoders.e5_provision` to add the missing files (if {ONNX_FILE} or "
        f"{EMBEDDINGS_FILE} is corrupt, first delete {folder / ONNX_MARKER}: only the ONNX files are made "
        f"again), or set BELEIDSWIJZER_ENCODER_BACKEND=torch to use the torch encoder."
    )


class EmbeddingRows:
    """Rows of a float32 [vocab, dim] .npy file, read with os.pread when asked for. The file stays
    in the page cache, outside the process's resident memory: a memory map would count about
    64 KiB per row read (the kernel maps the neighbouring pages too) and grow towards the whole
    table. Thread-safe (pread has no shared file position)."""

    def __init__(self, path: Path) -> None:
        header = np.load(path, mmap_mode="r")  # parses and checks the header; reads no rows
        self.shape, self._offset = header.shape, header.offset
        if header.dtype != np.dtype("<f4") or header.ndim != 2 or not header.flags.c_contiguous:
            raise ValueError(f"a {header.dtype} table of shape {header.shape}, expected little-endian float32 [vocab, dim]")
        del header
        self._row_bytes = 4 * self.shape[1]
        self._fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)

    def take(self, ids: np.ndarray) -> np.ndarray:
        """float32 [*ids.shape, dim]: the rows of `ids`."""
        unique, inverse = np.unique(ids, return_inverse=True)
        data = b"".join(os.pread(self._fd, self._row_bytes, self._offset + int(i) * self._row_bytes) for i in unique)
        rows = np.frombuffer(data, dtype="<f4").reshape(len(unique), self.shape[1])
        return rows[inverse.reshape(ids.shape)]


class OrtE5Encoder:
    """Encoder protocol over encoder.onnx + word_embeddings.npy. Loads on first use; safe to
    call from several threads (onnxruntime's Run is thread-safe)."""

    thread_safe = True  # the Retriever encodes concurrent queries without its lock

    def __init__(self, path: str | Path, name: str | None = None, onnx_file: str | Path | None = None) -> None:
        """`onnx_file`: another graph with encoder.onnx's inputs and output (the benchmark's int8
        candidate); default the folder's."""
        folder = Path(path).expanduser()
        missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
        if missing:
            what = "does not exist" if not folder.is_dir() else f"has no {', '.join(missing)}"
            raise EncoderLoadError(f"The embedding model folder {folder} {what}. {_how_to_fix(folder)}")
        self.path = folder
        self.onnx_file = Path(onnx_file) if onnx_file else folder / ONNX_FILE
        self.name = name or folder.name
        config = _read_json(folder / "config.json")
        self._pad = int(config.get("pad_token_id", 1))
        self.dim = _dim_from_folder(folder) or int(config.get("hidden_size", 0))
        prompts = _prompts_from_folder(folder)
        self._query_prefix = prompts.get("query", "")
        self._passage_prefix = prompts.get("passage", "")
        self._lock = threading.Lock()
        self._tokenizer: Any = None
        self._table: EmbeddingRows | None = None
        self._query_session: Any = None

    # ------------------------------------------------------------------ loading

    def _fail(self, what: str, exc: Exception) -> EncoderLoadError:
        return EncoderLoadError(
            f"Loading {what} from {self.path} failed ({type(exc).__name__}: {exc}). {_how_to_fix(self.path)}"
        )

    def _session(self, threads: int) -> Any:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise EncoderLoadError(
                f"onnxruntime is not installed ({exc}). Install the project's requirements "
                f"(pip install -r requirements.txt) or set BELEIDSWIJZER_ENCODER_BACKEND=torch."
            ) from exc

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            return ort.InferenceSession(str(self.onnx_file), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types for a truncated or invalid file
            raise self._fail(self.onnx_file.name, exc) from exc

    def _load_inputs(self) -> None:
        """Tokenizer and the embedding table (call with the lock held)."""
        if self._table is not None:
            return
        from tokenizers import Tokenizer, pre_tokenizers

        try:
            tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        except Exception as exc:
            raise self._fail("tokenizer.json", exc) from exc
        # transformers' XLMRobertaTokenizer (what the torch encoder uses) splits on whitespace
        # before Metaspace; tokenizer.json alone would add a "▁" token for trailing spaces
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")]
        )
        tokenizer.enable_truncation(MAX_SEQ_LENGTH)
        tokenizer.enable_padding(pad_id=self._pad, pad_token=tokenizer.id_to_token(self._pad) or "<pad>")
        try:
            table = EmbeddingRows(self.path / EMBEDDINGS_FILE)
            if table.shape[1] != self.dim or table.shape[0] < tokenizer.get_vocab_size():
                raise ValueError(f"a table of shape {table.shape}, expected [{tokenizer.get_vocab_size()}, {self.dim}]")
        except (OSError, ValueError) as exc:
            raise self._fail(EMBEDDINGS_FILE, exc) from exc
        self._tokenizer, self._table = tokenizer, table

    def _queries(self) -> Any:
        if self._query_session is None:
            with self._lock:
                if self._query_session is None:
                    self._load_inputs()
                    self._query_session = self._session(QUERY_THREADS)
        return self._query_session

    def load(self) -> "OrtE5Encoder":
        """Load now (e.g. at app start-up) instead of on the first query."""
        self._queries()
        return self

    # ------------------------------------------------------------------ encoding

    def _run(self, session: Any, texts: list[str]) -> np.ndarray:
        """One right-padded batch through the graph, as float32 unit vectors."""
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"inputs_embeds": self._table.take(ids), "attention_mask": mask, "position_ids": position_ids(ids, self._pad)}
        return _l2_normalise(session.run(None, feeds)[0])

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """float32 [len(texts), dim], L2-normalised, with the `query: ` prompt; one run per query
        on QUERY_THREADS threads."""
        session = self._queries()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self._run(session, [self._query_prefix + text])[0]
        return out

    def passage_pool(self, workers: int | None = None) -> "PassagePool":
        """What encode_passages runs on (`workers` sessions, default BUILD_THREADS), for a caller
        that encodes many lists (the benchmark); close it when done."""
        with self._lock:
            self._load_inputs()
        return PassagePool(self, workers or BUILD_THREADS)

    def encode_passages(self, texts: list[str], progress: ProgressFn | None = None) -> np.ndarray:
        """float32 [len(texts), dim], L2-normalised, with the `passage: ` prompt; small
        length-sorted batches shared out over BUILD_THREADS single-thread sessions,
        progress(done, total) after each batch."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # sessions of their own, released afterwards with their activation memory
        with self.passage_pool() as pool:
            return pool.encode(texts, progress)


class PassagePool:
    """`workers` single-thread sessions, each run by a thread of its own on the next batch: two
    one-thread runs side by side keep two cores busier than one two-thread run, which waits
    at every operator for its slower thread (and spins while it waits)."""

    def __init__(self, encoder: OrtE5Encoder, workers: int) -> None:
        self._encoder = encoder
        self._workers = max(1, workers)
        self._sessions: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(self._workers):
            self._sessions.put(encoder._session(1))
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="beleidswijzer-embed")

    def _batch(self, texts: list[str]) -> np.ndarray:
        session = self._sessions.get()  # never waits: no more batches run than there are sessions
        try:
            return self._encoder._run(session, texts)
        finally:
            self._sessions.put(session)

    def encode(self, texts: list[str], progress: ProgressFn | None = None) -> np.ndarray:
        """As OrtE5Encoder.encode_passages."""
        enc, total = self._encoder, len(texts)
        out = np.zeros((total, enc.dim), dtype=np.float32)
        order = sorted(range(total), key=lambda i: len(texts[i]), reverse=True)
        batches = [order[s : s + PASSAGE_BATCH] for s in range(0, total, PASSAGE_BATCH)]
        runs = [self._pool.submit(self._batch, [enc._passage_prefix + texts[i] for i in idx]) for idx in batches]
        done = 0
        try:
            for idx, run in zip(batches, runs):
                out[idx] = run.result()
                done += len(idx)
                if progress:
                    progress(done, total)
        except BaseException:
            for run in runs:
                run.cancel()
            raise
        return out

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "PassagePool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
