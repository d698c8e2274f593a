"""The sentence encoder: the packaged weights, the ONNX graph, and what its vectors mean."""

from __future__ import annotations

import numpy as np
import pytest

from components.encoder.minilm import SentenceEncoder, shared_encoder

SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "i cant brethe",
    "my leg went numb and i cant move it at all, is that normal? my mom is here",
]


@pytest.fixture(scope="module")
def numpy_encoder() -> SentenceEncoder:
    return SentenceEncoder(runtime="numpy")


def test_the_onnx_graph_computes_what_the_numpy_reference_computes(numpy_encoder: SentenceEncoder) -> None:
    onnx = shared_encoder()
    assert onnx.runtime == "onnx", "make install writes model.onnx beside the weights"
    assert np.abs(onnx.encode(SENTENCES) - numpy_encoder.encode(SENTENCES)).max() < 1e-4


def test_vectors_are_unit_length_and_match_the_model_card(numpy_encoder: SentenceEncoder) -> None:
    vectors = numpy_encoder.encode(SENTENCES[:2])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # sentence-transformers' own example pair scores 0.7553 with all-MiniLM-L6-v2
    assert abs(float(vectors[0] @ vectors[1]) - 0.7553) < 0.005


def test_meaning_not_words_decides_similarity() -> None:
    encoder = shared_encoder()
    fainted, passed_out, shower = encoder.encode(
        ["I fainted in the kitchen", "I passed out and woke up on the floor", "can I take a shower tonight"]
    )
    assert fainted @ passed_out > fainted @ shower + 0.1


def test_empty_huge_and_odd_text_encode_without_error() -> None:
    encoder = shared_encoder()
    vectors = encoder.encode(["", "🙂🙏", "<script>alert(1)</script>", "x " * 20000, "¿Puedo ducharme?"])
    assert vectors.shape == (5, encoder.dimensions) and np.isfinite(vectors).all()


def test_repeated_texts_come_from_the_cache() -> None:
    encoder = shared_encoder()
    first = encoder.encode(["a sentence seen twice"])
    assert np.array_equal(first, encoder.encode(["a sentence seen twice"]))
    assert "a sentence seen twice" in encoder._cache
