"""The int8 ONNX export of all-MiniLM-L6-v2 (built by `make` into models/) against the float model."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.embedder import MiniLMEmbedder, default_embedder
from nlp.onnx_embedder import MODEL_NAME, OnnxMiniLMEmbedder, OnnxModelMissing

pytestmark = pytest.mark.slow

SENTENCES = [
    "International law, including the Charter of the United Nations, applies in cyberspace.",
    "There is no need for a new treaty.",
    "A new legally binding convention for cyberspace is unnecessary.",
    ("States should not knowingly allow their territory to be used for internationally wrongful acts "
     "using information and communication technologies."),
    "Due diligence is not, in our view, a binding obligation under customary international law.",
    "Sovereignty is a rule of international law in its own right, not merely a principle.",
    "The committee adopted its budget for the coming year.",
    "We reserve the right to respond to malicious cyber operations with countermeasures.",
    "Cyber operations can violate sovereignty.",
    ("International humanitarian law applies to cyber operations during armed conflict, and its "
     "principles of distinction, proportionality and precaution constrain them, although how they "
     "apply to data as an object of attack remains a matter on which States have not yet agreed and "
     "which our delegation believes deserves further study in this forum over the coming years."),
    "Attribution is a national prerogative.",
    "Critical infrastructure must not be targeted.",
    "Les États ont le droit de se défendre.",
    "The right of self-defence under Article 51 may be triggered by a cyber operation.",
    "Confidence-building measures are voluntary.",
    "Capacity building helps developing countries close the digital divide.",
    "We support the programme of action.",
    "Norms of responsible state behaviour are non-binding.",
    "The principle of non-intervention prohibits coercive interference in the internal affairs of States.",
    "Thank you, Chair.",
]
# Not statements: int8 moves these more (cosine 0.969 and 0.980 to the float model).
FRAGMENTS = ["Ok.", ""]


@pytest.fixture(scope="module")
def onnx_embedder():
    return OnnxMiniLMEmbedder()


@pytest.fixture(scope="module")
def float_vectors():
    return MiniLMEmbedder().embed(SENTENCES)


def test_int8_vectors_are_unit_length_and_close_to_the_float_model(onnx_embedder, float_vectors):
    vectors = onnx_embedder.embed(SENTENCES)
    assert vectors.shape == float_vectors.shape and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert (vectors * float_vectors).sum(axis=1).min() >= 0.98


def test_a_vector_does_not_depend_on_the_texts_embedded_with_it(onnx_embedder):
    # Int8 activations are scaled per input tensor: batching or padding would break this.
    texts = SENTENCES + FRAGMENTS
    together = onnx_embedder.embed(texts)
    alone = np.vstack([onnx_embedder.embed([text]) for text in texts])
    assert np.array_equal(together, alone)
    assert np.array_equal(onnx_embedder.embed(texts[::-1]), together[::-1])
    assert np.allclose(np.linalg.norm(together, axis=1), 1, atol=1e-5)


def test_an_empty_list_gives_no_rows(onnx_embedder):
    assert onnx_embedder.embed([]).shape == (0, 384)


def test_its_model_name_differs_from_the_float_model():
    assert default_embedder("onnx-int8").model_name == MODEL_NAME != default_embedder("torch").model_name
    with pytest.raises(ValueError, match="onnx-int8"):
        default_embedder("tensorflow")


def test_a_missing_export_says_how_to_build_it(tmp_path):
    with pytest.raises(OnnxModelMissing, match="make"):
        OnnxMiniLMEmbedder(tmp_path).embed(["anything"])
