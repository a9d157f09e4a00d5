"""The default encoder on ONNX Runtime (indexer/encoders/ort.py): without the model, its error
messages, position ids, batching and provisioning logic on fake files; with the model
(integration), the same vectors as the torch encoder and no torch in the process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from indexer.encoders import e5_provision, get_encoder
from indexer.encoders.e5_layout import (
    EMBEDDINGS_FILE,
    MARKER_FILE,
    ONNX_EXPORT_VERSION,
    ONNX_FILE,
    ONNX_MARKER,
    position_ids,
)
from indexer.encoders.e5_provision import is_complete, provision_e5
from indexer.encoders.ort import EmbeddingRows, OrtE5Encoder
from indexer.encoders.st import EncoderLoadError, SentenceTransformerEncoder
from tests.test_e5_model import DUTCH_PASSAGES, DUTCH_QUERIES, ENGLISH_PASSAGES, ENGLISH_QUERIES

REPO = Path(__file__).resolve().parents[1]
EDGE_CASES = ["  spaties rond  ", "", "tekst met <pad> erin", "ﬁnale  Ｆｕｌｌwidth\u00a0tekst\tmet\nwitruimte"]

# --------------------------------------------------------------------------- a fake model folder

WORDS = ["<s>", "<pad>", "</s>", "<unk>", "▁query:", "▁passage:", "▁a", "▁b", "▁c"]  # as Metaspace splits
DIM = 4


def _tokenizer_json(path: Path) -> None:
    from tokenizers import Tokenizer, processors
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import WhitespaceSplit

    tok = Tokenizer(WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    tok.pre_tokenizer = WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    tok.save(str(path))


def _mean_pool_graph(path: Path) -> None:
    """A stand-in for encoder.onnx with its inputs and output: the masked mean of inputs_embeds."""
    from onnx import TensorProto, helper, save

    f, i = TensorProto.FLOAT, TensorProto.INT64
    nodes = [
        helper.make_node("Cast", ["attention_mask"], ["m"], to=f),
        helper.make_node("Unsqueeze", ["m", "axis"], ["m3"]),
        helper.make_node("Mul", ["inputs_embeds", "m3"], ["x"]),
        helper.make_node("ReduceSum", ["x", "tokens"], ["s"], keepdims=0),
        helper.make_node("ReduceSum", ["m3", "tokens"], ["n"], keepdims=0),
        helper.make_node("Div", ["s", "n"], ["sentence_embedding"]),
    ]
    graph = helper.make_graph(
        nodes, "mean", [
            helper.make_tensor_value_info("inputs_embeds", f, ["b", "t", DIM]),
            helper.make_tensor_value_info("attention_mask", i, ["b", "t"]),
            helper.make_tensor_value_info("position_ids", i, ["b", "t"]),
        ],
        [helper.make_tensor_value_info("sentence_embedding", f, ["b", DIM])],
        [helper.make_tensor("axis", i, [1], [2]), helper.make_tensor("tokens", i, [1], [1])],
    )  # fmt: skip
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))


@pytest.fixture
def fake_folder(tmp_path: Path) -> Path:
    """A folder with every file the encoder reads, a toy tokenizer and a mean-pooling graph;
    word k's embedding is the one-hot vector of k mod 4."""
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"pad_token_id": 1, "hidden_size": DIM}))
    (folder / "config_sentence_transformers.json").write_text(json.dumps({"prompts": {"query": "query: ", "passage": "passage: "}}))
    _tokenizer_json(folder / "tokenizer.json")
    np.save(folder / EMBEDDINGS_FILE, np.eye(DIM, dtype=np.float32)[np.arange(len(WORDS)) % DIM])
    _mean_pool_graph(folder / ONNX_FILE)
    return folder


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


# --------------------------------------------------------------------------- unit tests


def test_position_ids_follow_transformers_for_right_padding() -> None:
    ids = np.array([[0, 7, 8, 2, 1, 1], [0, 7, 1, 8, 9, 2]])  # padding; a literal <pad> (id 1) in the text
    assert position_ids(ids, pad=1).tolist() == [[2, 3, 4, 5, 1, 1], [2, 3, 1, 4, 5, 6]]


def test_embedding_rows_are_the_tables_rows(tmp_path: Path) -> None:
    table = np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32)
    np.save(tmp_path / "t.npy", table)
    ids = np.array([[3, 49, 3, 0], [7, 7, 1, 2]])
    got = EmbeddingRows(tmp_path / "t.npy").take(ids)
    assert got.shape == (2, 4, 8) and got.dtype == np.float32
    np.testing.assert_array_equal(got, table[ids])
    np.save(tmp_path / "f64.npy", table.astype(np.float64))
    with pytest.raises(ValueError, match="float32"):
        EmbeddingRows(tmp_path / "f64.npy")


def test_encodes_with_prompts_mask_and_order(fake_folder: Path) -> None:
    enc = OrtE5Encoder(fake_folder, name="toy")
    assert (enc.name, enc.dim) == ("toy", DIM)
    # "<s> passage: a </s>" = words 0 5 6 2 -> rows e0 e1 e2 e2; the padding of the longer text's
    # batch must not count
    calls: list[tuple[int, int]] = []
    got = enc.encode_passages(["a", "a b c a"], progress=lambda d, t: calls.append((d, t)))
    assert got.dtype == np.float32 and got.shape == (2, DIM)
    np.testing.assert_allclose(got[0], _unit([1, 1, 2, 0]), atol=1e-6)
    np.testing.assert_allclose(got[1], _unit([2, 1, 3, 1]), atol=1e-6)  # 0 5 6 7 8 6 2
    assert calls == [(2, 2)]
    np.testing.assert_allclose(enc.encode_queries(["b"])[0], _unit([2, 0, 1, 1]), atol=1e-6)  # 0 4 7 2
    assert enc.encode_queries([]).shape == (0, DIM) and enc.encode_passages([]).shape == (0, DIM)


def test_passages_in_several_batches_keep_their_order(fake_folder: Path, monkeypatch) -> None:
    from indexer.encoders import ort

    monkeypatch.setattr(ort, "PASSAGE_BATCH", 2)
    enc = OrtE5Encoder(fake_folder)
    texts = ["a", "b b b b", "c c", "a b", "c"]
    calls: list[tuple[int, int]] = []
    together = enc.encode_passages(texts, progress=lambda d, t: calls.append((d, t)))
    one_by_one = np.vstack([enc.encode_passages([t]) for t in texts])
    np.testing.assert_allclose(together, one_by_one, atol=1e-6)
    assert calls == [(2, 5), (4, 5), (5, 5)]


def test_missing_folder_or_files_say_what_to_do(tmp_path: Path, fake_folder: Path) -> None:
    with pytest.raises(EncoderLoadError) as err:
        OrtE5Encoder(tmp_path / "nowhere")
    assert "does not exist" in str(err.value) and "python -m indexer.encoders.e5_provision" in str(err.value)
    (fake_folder / ONNX_FILE).unlink()
    with pytest.raises(EncoderLoadError) as err:
        OrtE5Encoder(fake_folder)
    assert f"has no {ONNX_FILE}" in str(err.value) and "BELEIDSWIJZER_ENCODER_BACKEND=torch" in str(err.value)


@pytest.mark.parametrize("broken", [ONNX_FILE, EMBEDDINGS_FILE])
def test_corrupt_file_names_it_and_the_fix(fake_folder: Path, broken: str) -> None:
    (fake_folder / broken).write_bytes(b"\x00 not a model")
    enc = OrtE5Encoder(fake_folder)  # loads lazily
    with pytest.raises(EncoderLoadError) as err:
        enc.load()
    msg = str(err.value)
    assert broken in msg and str(fake_folder / ONNX_MARKER) in msg and "only the ONNX files are made again" in msg


def test_embedding_table_of_the_wrong_shape_is_refused(fake_folder: Path) -> None:
    np.save(fake_folder / EMBEDDINGS_FILE, np.zeros((len(WORDS), DIM + 1), dtype=np.float32))
    with pytest.raises(EncoderLoadError, match=r"shape \(9, 5\), expected \[9, 4\]"):
        OrtE5Encoder(fake_folder).encode_queries(["a"])


def _converted(folder: Path, onnx: bool) -> Path:
    """Fake files as a finished conversion leaves them (with or without the ONNX export)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER_FILE).write_text(json.dumps({"source_sha256": e5_provision.SOURCE_SHA256,
                                                  "converter_version": e5_provision.CONVERTER_VERSION}))  # fmt: skip
    (folder / "model.safetensors").write_bytes(b"weights")
    if onnx:
        (folder / ONNX_FILE).write_bytes(b"graph")
        (folder / EMBEDDINGS_FILE).write_bytes(b"table")
        (folder / ONNX_MARKER).write_text(json.dumps({"export_version": ONNX_EXPORT_VERSION}))
    return folder


def test_is_complete_requires_the_onnx_files(tmp_path: Path) -> None:
    folder = _converted(tmp_path / "m", onnx=True)
    assert is_complete(folder) and is_complete(folder, onnx=False)
    for name in (ONNX_FILE, EMBEDDINGS_FILE, ONNX_MARKER):
        data = (folder / name).read_bytes()
        (folder / name).unlink()
        assert not is_complete(folder) and is_complete(folder, onnx=False), name
        (folder / name).write_bytes(data)
    (folder / ONNX_MARKER).write_text(json.dumps({"export_version": ONNX_EXPORT_VERSION - 1}))
    assert not is_complete(folder)
    (folder / MARKER_FILE).unlink()
    assert not is_complete(folder) and not is_complete(folder, onnx=False)


def test_provisioning_an_older_folder_only_adds_the_onnx_files(tmp_path: Path, monkeypatch) -> None:
    folder = _converted(e5_provision.model_dir(tmp_path), onnx=False)

    def no_conversion(*_args):
        raise AssertionError("the weights were converted again")

    def fake_export(target: Path, say) -> None:
        say("exporting")
        _converted(target, onnx=True)

    monkeypatch.setattr(e5_provision, "_convert_into", no_conversion)
    monkeypatch.setattr(e5_provision, "export_onnx", fake_export)
    messages: list[str] = []
    assert provision_e5(tmp_path, progress=messages.append) == folder
    assert messages[0] == "exporting" and messages[-1].startswith("done in")
    assert (folder / "model.safetensors").read_bytes() == b"weights"
    messages.clear()
    assert provision_e5(tmp_path, progress=messages.append) == folder and messages == []


def test_backend_setting_chooses_the_encoder(fake_folder: Path, monkeypatch) -> None:
    asked: list[bool] = []
    monkeypatch.setattr(e5_provision, "provision_e5", lambda onnx=True: asked.append(onnx) or fake_folder)
    # enough for SentenceTransformerEncoder's constructor (it reads the dimension, loads nothing)
    (fake_folder / "modules.json").write_text(json.dumps([{"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]))
    (fake_folder / "1_Pooling").mkdir()
    (fake_folder / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": DIM}))
    monkeypatch.delenv("BELEIDSWIJZER_ENCODER_BACKEND", raising=False)
    enc = get_encoder("e5-small")
    assert isinstance(enc, OrtE5Encoder) and enc.name == "multilingual-e5-small-q4" and enc.spec == "e5-small"
    monkeypatch.setenv("BELEIDSWIJZER_ENCODER_BACKEND", "torch")
    enc = get_encoder("e5-small")
    assert isinstance(enc, SentenceTransformerEncoder) and enc.name == "multilingual-e5-small-q4"
    assert asked == [True, False], "the torch backend does not need the ONNX files"
    monkeypatch.setenv("BELEIDSWIJZER_ENCODER_BACKEND", "tensorflow")
    with pytest.raises(EncoderLoadError, match="onnx, torch"):
        get_encoder("e5-small")


# --------------------------------------------------------------------------- integration


@pytest.fixture(scope="module")
def folder() -> Path:
    return provision_e5()


@pytest.fixture(scope="module")
def ort_encoder(folder: Path) -> OrtE5Encoder:
    return OrtE5Encoder(folder, name="multilingual-e5-small-q4").load()


@pytest.fixture(scope="module")
def torch_encoder(folder: Path) -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder(folder, name="multilingual-e5-small-q4").load()


def _min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(((a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))).min())


@pytest.mark.integration
def test_same_vectors_as_the_torch_encoder(ort_encoder: OrtE5Encoder, torch_encoder: SentenceTransformerEncoder) -> None:
    assert (ort_encoder.name, ort_encoder.dim) == (torch_encoder.name, torch_encoder.dim) == ("multilingual-e5-small-q4", 384)
    queries = DUTCH_QUERIES + ENGLISH_QUERIES + EDGE_CASES
    got = ort_encoder.encode_queries(queries)
    assert got.dtype == np.float32 and got.shape == (len(queries), 384)
    assert _min_cosine(got, torch_encoder.encode_queries(queries)) >= 0.9999
    # one padded batch of different lengths, including one truncated at 512 tokens
    passages = DUTCH_PASSAGES + ENGLISH_PASSAGES + EDGE_CASES + ["kort", "asiel " * 700]
    got = ort_encoder.encode_passages(passages)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert _min_cosine(got, torch_encoder.encode_passages(passages)) >= 0.9999


@pytest.mark.integration
def test_tokens_match_the_torch_encoder(ort_encoder: OrtE5Encoder, torch_encoder: SentenceTransformerEncoder) -> None:
    hf = torch_encoder._model.tokenizer
    for text in DUTCH_PASSAGES + ENGLISH_QUERIES + EDGE_CASES + ["\t\n  \r\n", "<s>x</s><mask> y", "art. 3.37 — €5,00 § 2"]:
        ours = ort_encoder._tokenizer.encode("passage: " + text).ids
        assert ours == hf("passage: " + text)["input_ids"], repr(text)


@pytest.mark.integration
def test_concurrent_queries_give_the_sequential_vectors(ort_encoder: OrtE5Encoder) -> None:
    queries = DUTCH_QUERIES + ENGLISH_QUERIES
    expected = ort_encoder.encode_queries(queries)
    got: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        got[i] = ort_encoder.encode_queries([queries[i % len(queries)]])[0]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, v in got.items():
        np.testing.assert_allclose(v, expected[i % len(queries)], atol=1e-6)


@pytest.mark.integration
def test_default_encoder_runs_without_torch(folder: Path) -> None:
    """A fresh process: get_encoder() gives the ORT encoder and never imports torch."""
    code = (
        "import sys; from indexer.encoders import get_encoder; e = get_encoder('e5-small'); "
        "v = e.encode_queries(['Wat is het beleid?']); "
        "print(type(e).__name__, v.shape, 'torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != "BELEIDSWIJZER_ENCODER_BACKEND"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["OrtE5Encoder", "(1,", "384)", "False", "False"]


def test_model_files_are_written_readable_like_the_rest(tmp_path):
    import stat

    from indexer.encoders.e5_provision import _write_atomically

    plain = tmp_path / "plain"
    plain.write_bytes(b"")  # the mode any new file gets here (0666 less umask)
    target = tmp_path / "encoder.onnx"
    _write_atomically(target, lambda p: p.write_bytes(b"graph"))
    assert target.read_bytes() == b"graph"
    assert stat.S_IMODE(target.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["encoder.onnx", "plain"]  # no temp file left


def test_provisioning_waits_for_another_process_and_clears_leftovers(tmp_path, monkeypatch):
    """A second provisioning waits on the lock, finds the model done and returns; temp files of a
    killed run are removed under the lock, however new they are."""
    import fcntl
    import threading

    from indexer.encoders import e5_provision as ep

    target = ep.model_dir(tmp_path)
    target.mkdir(parents=True)
    leftover = target / ".encoder.onnx.tmp-123-456"
    leftover.write_bytes(b"partial")
    calls = []
    monkeypatch.setattr(ep, "_convert_into", lambda t, say: calls.append("convert"))
    monkeypatch.setattr(ep, "export_onnx", lambda t, say: calls.append("export"))
    done = {"flag": False}
    monkeypatch.setattr(ep, "is_complete", lambda folder, onnx=True: done["flag"])

    with open(target.parent / f".{ep.MODEL_DIRNAME}.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # "another process" holds the lock
        messages = []
        t = threading.Thread(target=lambda: ep.provision_e5(tmp_path, messages.append))
        t.start()
        t.join(0.5)
        assert t.is_alive() and any("waiting" in m for m in messages)
        done["flag"] = True  # the other process finishes
        fcntl.flock(fh, fcntl.LOCK_UN)
    t.join(5)
    assert not t.is_alive() and calls == []
    assert leftover.exists()  # nothing was provisioned, so nothing was cleaned

    done["flag"] = False
    ep.provision_e5(tmp_path)
    assert calls == ["convert", "export"] and not leftover.exists()


def test_passages_shared_out_over_single_thread_sessions_keep_their_order(fake_folder: Path, monkeypatch) -> None:
    from indexer.encoders import ort

    monkeypatch.setattr(ort, "PASSAGE_BATCH", 1)
    monkeypatch.setattr(ort, "BUILD_THREADS", 2)
    enc = OrtE5Encoder(fake_folder)
    threads_asked: list[int] = []
    session = enc._session
    monkeypatch.setattr(enc, "_session", lambda n: threads_asked.append(n) or session(n))
    ran_on: set[str] = set()
    run = enc._run
    monkeypatch.setattr(enc, "_run", lambda s, t: ran_on.add(threading.current_thread().name) or run(s, t))
    texts = ["a", "b b b b", "c c", "a b", "c", "a a b", "b"]
    calls: list[tuple[int, int]] = []
    together = enc.encode_passages(texts, progress=lambda d, t: calls.append((d, t)))
    assert threads_asked == [1, 1]  # two sessions of one thread each, not one of two
    assert ran_on and all(name.startswith("beleidswijzer-embed") for name in ran_on)
    one_by_one = np.vstack([ort.OrtE5Encoder(fake_folder).encode_passages([t]) for t in texts])
    np.testing.assert_allclose(together, one_by_one, atol=1e-6)
    assert calls == [(d, 7) for d in range(1, 8)]  # in order, one per batch


def test_a_failing_batch_reaches_the_caller(fake_folder: Path, monkeypatch) -> None:
    from indexer.encoders import ort

    monkeypatch.setattr(ort, "PASSAGE_BATCH", 1)
    enc = OrtE5Encoder(fake_folder)
    run = enc._run

    def fail_on_c(session, texts):
        if any(t.endswith(" c") for t in texts):
            raise RuntimeError("batch with c")
        return run(session, texts)

    monkeypatch.setattr(enc, "_run", fail_on_c)
    with enc.passage_pool(2) as pool:
        with pytest.raises(RuntimeError, match="batch with c"):
            pool.encode(["a", "b", "c", "a b"])
        assert pool.encode(["a", "b"]).shape == (2, DIM)  # the pool still works after a failure


@pytest.fixture(scope="module")
def corpus_passages() -> list[str]:
    """The passage texts of the shipped corpus, as the build parses them."""
    from indexer import sources
    from indexer.build import parse_file

    files, _ = sources.find([REPO / "corpus"])
    return [p.text for f in files for p in parse_file(f.path, f.root)[1]]


def _previous_build_path(encoder: OrtE5Encoder, texts: list[str]) -> np.ndarray:
    """Passage vectors as the build made them before the passage pool: one session on two
    threads, length-sorted batches of 32."""
    session = encoder._session(2)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    for s in range(0, len(texts), 32):
        idx = order[s : s + 32]
        out[idx] = encoder._run(session, [encoder._passage_prefix + texts[i] for i in idx])
    return out


@pytest.mark.integration
def test_the_passage_pool_gives_the_previous_vectors_and_rankings(ort_encoder: OrtE5Encoder, corpus_passages) -> None:
    """The build's passage vectors are the previous path's to 1e-5 per component on the real
    corpus, and every evaluation question's dense top 5 over them is the same."""
    from retrieval.evalsets import check_sets, tune_sets
    from retrieval.evaluate import load_questions

    assert len(corpus_passages) > 100
    new = ort_encoder.encode_passages(corpus_passages)
    old = _previous_build_path(ort_encoder, corpus_passages)
    assert float(np.abs(new - old).max()) <= 1e-5
    questions = [q.question for s in tune_sets() + check_sets() for q in load_questions(s.path)]
    assert len(questions) > 300
    queries = ort_encoder.encode_queries(questions)
    top = lambda vecs: np.argsort(-(queries @ vecs.T), axis=1, kind="stable")[:, :5]  # noqa: E731
    assert (top(new) == top(old)).all()
