"""AudioFeatureExtractor on synthetic waveforms (tones and noise) with tiny untrained
Wav2Vec2/HuBERT models: shapes and names, agreement with transformers' own
preprocessing, padding invariance for both feature-encoder norms, layers,
resampling and WAV files, the cache, pickling, input errors, the error for
missing pretrained weights, and features that separate two kinds of tone.
"""

from __future__ import annotations

import pickle
import socket
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.io import wavfile
from scipy.signal import resample_poly
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer.deep import AudioFeatureExtractor, DeepFeatureExtractor, ImageFeatureExtractor

transformers = pytest.importorskip("transformers")

RATE = 16000
TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, conv_dim=(32,) * 7,
            num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2)
_MODELS: dict = {}


def tiny(family="wav2vec2", norm="group"):
    """A tiny untrained encoder (2 layers, width 32, the base models' convolutions), the same object per kind."""
    key = (family, norm)
    if key not in _MODELS:
        config_cls, model_cls = {"wav2vec2": (transformers.Wav2Vec2Config, transformers.Wav2Vec2Model),
                                 "hubert": (transformers.HubertConfig, transformers.HubertModel)}[family]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            _MODELS[key] = model_cls(config_cls(**TINY, feat_extract_norm=norm,
                                                do_stable_layer_norm=norm == "layer")).eval()
    return _MODELS[key]


def tone(freq, seconds, *, rate=RATE, noise=0.05, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi)) + noise * rng.normal(size=t.size))


CLIPS = [tone(220, 1.0), tone(880, 0.55, seed=1), tone(3000, 0.3, seed=2)]


def forward_inputs(model):
    """Record the (batch, samples) shape of every forward pass of the shared copy of ``model``."""
    from sktransfer.deep._backbones._registry import resolve_backbone

    shapes = []
    module = resolve_backbone(model, "pretrained", "audio", owner="t").module
    handle = module.register_forward_pre_hook(lambda m, a, kw: shapes.append(tuple(kw["input_values"].shape)),
                                              with_kwargs=True)
    return shapes, handle


def test_shapes_names_and_output_types():
    ext = AudioFeatureExtractor(tiny()).fit(CLIPS)
    assert isinstance(ext, DeepFeatureExtractor)
    assert ext.n_features_out_ == 32 and ext.layer_name_ == "pooled" and ext.backbone_name_ == "wav2vec2model"
    assert ext.layer_names_ == ["feature_projection", "encoder.layers.0", "encoder.layers.1", "pooled"]
    assert ext.preprocess_config_ == {"sampling_rate": 16000, "normalize": True}
    out = ext.transform(CLIPS)
    assert out.shape == (3, 32) and out.dtype == np.float32 and np.isfinite(out).all()
    assert list(ext.get_feature_names_out()[:2]) == ["wav2vec2model_0", "wav2vec2model_1"]
    assert AudioFeatureExtractor(tiny(), pooling="avgmax").fit(CLIPS).transform(CLIPS).shape == (3, 64)
    frame = ext.set_output(transform="pandas").transform(pd.Series(CLIPS, index=list("abc")))
    assert frame.index.tolist() == list("abc") and frame.columns[0] == "wav2vec2model_0"


def test_deterministic_and_input_order_kept():
    ext = AudioFeatureExtractor(tiny(), batch_size=2).fit(CLIPS)
    first = ext.transform(CLIPS)
    np.testing.assert_array_equal(ext.transform(CLIPS), first)
    np.testing.assert_array_equal(clone(ext).fit(CLIPS).transform(CLIPS), first)
    reversed_ = ext.transform(CLIPS[::-1])
    np.testing.assert_allclose(reversed_[::-1], first, atol=1e-6)


def test_matches_transformers_own_preprocessing_and_pooling():
    """Reference: Wav2Vec2FeatureExtractor (zero mean, unit variance), the model, a mean and a max over frames."""
    model = tiny()
    clip = CLIPS[1]
    inputs = transformers.Wav2Vec2FeatureExtractor()(clip, sampling_rate=RATE, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(inputs["input_values"]).last_hidden_state[0].numpy()
    for pooling, want in [("mean", hidden.mean(0)), ("max", hidden.max(0)),
                          ("avgmax", np.hstack([hidden.mean(0), hidden.max(0)]))]:
        got = AudioFeatureExtractor(model, pooling=pooling).fit([clip]).transform([clip])[0]
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=pooling)


@pytest.mark.parametrize("family", ["wav2vec2", "hubert"])
@pytest.mark.parametrize("norm", ["group", "layer"])
@pytest.mark.parametrize("layer, pooling", [(-1, "auto"), (1, "max"), (0, "mean")])
def test_padding_does_not_change_an_embedding(family, norm, layer, pooling):
    """A clip alone equals the same clip batched with a longer and a shorter one."""
    ext = AudioFeatureExtractor(tiny(family, norm), layer=layer, pooling=pooling).fit(CLIPS)
    alone = ext.transform([CLIPS[1]])[0]
    batched = ext.transform([CLIPS[1], CLIPS[0], CLIPS[2]])[0]
    np.testing.assert_allclose(batched, alone, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("norm, expected", [("group", [(2, 16000), (1, 8800)]), ("layer", [(3, 16000)])])
def test_groupnorm_models_get_equal_length_batches_and_layernorm_models_padded_ones(norm, expected):
    """GroupNorm over time would see the padding: those batches hold one length only."""
    model = tiny("wav2vec2", norm)
    ext = AudioFeatureExtractor(model).fit(CLIPS)
    shapes, handle = forward_inputs(model)
    try:
        ext.transform([CLIPS[0], CLIPS[1], tone(300, 1.0, seed=5)])
    finally:
        handle.remove()
    assert shapes == expected


def test_layer_choice_changes_the_output_and_later_layers_do_not_run():
    model = tiny()
    outs = {layer: AudioFeatureExtractor(model, layer=layer).fit(CLIPS).transform(CLIPS) for layer in (0, 1, 2, -1)}
    for a in outs:
        for b in outs:
            if a != b and not {a, b} == {2, -1}:  # post-LN Wav2Vec2: the last layer is the last hidden state
                assert np.abs(outs[a] - outs[b]).max() > 1e-3, (a, b)
    np.testing.assert_allclose(outs[2], outs[-1], atol=1e-5)
    by_name = AudioFeatureExtractor(model, layer="encoder.layers.0").fit(CLIPS)
    np.testing.assert_allclose(by_name.transform(CLIPS), outs[1], atol=1e-6)
    from sktransfer.deep._backbones._registry import resolve_backbone

    calls = []
    last = resolve_backbone(model, "pretrained", "audio", owner="t").module.encoder.layers[1]
    handle = last.register_forward_hook(lambda *a: calls.append(1))
    try:
        AudioFeatureExtractor(model, layer=1).fit(CLIPS).transform(CLIPS)
    finally:
        handle.remove()
    assert calls == []


@pytest.mark.parametrize("layer", [4, -5])
def test_layer_deeper_than_the_model_is_a_clear_error(layer):
    with pytest.raises(ValueError, match=rf"layer={layer} is deeper than wav2vec2model, which has 4 readable"):
        AudioFeatureExtractor(tiny(), layer=layer).fit(CLIPS)


def test_other_rates_are_resampled_to_the_models():
    clip8k = tone(440, 0.5, rate=8000, seed=3)
    ext = AudioFeatureExtractor(tiny(), sampling_rate=8000).fit([clip8k])
    expected = AudioFeatureExtractor(tiny()).fit([clip8k]).transform([resample_poly(clip8k, 2, 1)])
    np.testing.assert_allclose(ext.transform([clip8k]), expected, rtol=1e-4, atol=1e-5)


def test_wav_files_are_read_at_their_own_rate(tmp_path):
    clip = tone(440, 0.5, rate=8000, seed=3)
    pcm = np.round(clip * 20000).astype(np.int16)
    wavfile.write(tmp_path / "mono16.wav", 8000, pcm)
    wavfile.write(tmp_path / "stereo16.wav", 8000, np.stack([pcm, pcm], axis=1))
    wavfile.write(tmp_path / "float32.wav", 8000, (pcm / 32768).astype(np.float32))
    expected = AudioFeatureExtractor(tiny(), sampling_rate=8000).fit([clip]).transform([pcm / 32768])[0]
    ext = AudioFeatureExtractor(tiny()).fit([str(tmp_path / "mono16.wav")])  # sampling_rate is for arrays only
    files = [tmp_path / "mono16.wav", str(tmp_path / "stereo16.wav"), str(tmp_path / "float32.wav")]
    out = ext.transform(files + [CLIPS[0]])  # paths (str or Path) and arrays mix
    for row in out[:3]:
        np.testing.assert_allclose(row, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out[3], ext.transform([CLIPS[0]])[0], rtol=1e-4, atol=1e-5)
    (tmp_path / "notes.wav").write_text("not audio")
    with pytest.raises(ValueError, match=r"cannot read .*notes.wav' as a WAV file.*scipy.io.wavfile"):
        ext.transform([str(tmp_path / "notes.wav")])


def test_accepts_lists_tuples_object_arrays_series_and_2d_arrays():
    ext = AudioFeatureExtractor(tiny()).fit(CLIPS)
    reference = ext.transform(CLIPS)
    for X in (tuple(CLIPS), np.array(CLIPS, dtype=object), pd.Series(CLIPS), [c.tolist() for c in CLIPS],
              [c.astype(np.float32) for c in CLIPS], [torch.tensor(c) for c in CLIPS]):
        np.testing.assert_allclose(ext.transform(X), reference, rtol=1e-5, atol=1e-6)
    equal = np.stack([tone(f, 0.5, seed=f) for f in (200, 400, 800)])
    np.testing.assert_allclose(ext.transform(equal), ext.transform(list(equal)), rtol=1e-5, atol=1e-6)


def test_cache_hits_skip_the_model_and_the_rate_is_part_of_the_key(tmp_path):
    model = tiny()
    ext = AudioFeatureExtractor(model, cache=tmp_path).fit(CLIPS)
    first = ext.transform(CLIPS)
    assert len(list(tmp_path.rglob("*.npy"))) == 3
    shapes, handle = forward_inputs(model)
    try:
        np.testing.assert_array_equal(clone(ext).fit(CLIPS).transform(CLIPS), first)
        assert shapes == []  # every clip came from the cache (and the width was probed once per backbone)
        shapes.clear()
        AudioFeatureExtractor(model, cache=tmp_path, sampling_rate=8000).fit(CLIPS).transform(CLIPS[:1])
        assert (1, 32000) in shapes  # the same samples at another rate are another clip
    finally:
        handle.remove()


def test_pickle_clone_and_params_stored_unchanged(tmp_path):
    """A folder (or registered name) pickles without the model. (A loaded Wav2Vec2Model as backbone is
    pickled with the estimator, and torch refuses to pickle its weight-normed positional convolution.)"""
    tiny().save_pretrained(tmp_path / "m")
    ext = AudioFeatureExtractor(str(tmp_path / "m"), layer=1, pooling="max").fit(CLIPS)
    blob = pickle.dumps(ext)
    assert len(blob) < 20_000
    np.testing.assert_array_equal(pickle.loads(blob).transform(CLIPS), ext.transform(CLIPS))
    copy = clone(ext)
    assert not hasattr(copy, "layer_name_") and copy.get_params()["layer"] == 1
    odd = AudioFeatureExtractor("nope", sampling_rate="fast", layer="x", device="tpu")
    assert odd.get_params()["sampling_rate"] == "fast" and odd.get_params()["device"] == "tpu"
    tags = ext.__sklearn_tags__()
    assert not tags.input_tags.two_d_array and tags.transformer_tags.preserves_dtype == []


@pytest.mark.parametrize("X, error, match", [
    ("clip.wav", TypeError, r"wrap a single file in a list"),
    (np.zeros(16000), ValueError, r"one 1-D array of 16000 values.*\[waveform\]"),
    (np.zeros((2, 3, 16000)), ValueError, r"got an array of shape \(2, 3, 16000\)"),
    (np.zeros((16000, 2)), ValueError, r"shape \(16000, 2\).*\(n_samples, n_channels\).*x.mean\(axis=1\)"),
    (np.zeros((16000, 1)), ValueError, r"one waveform as a column, pass \[x.ravel\(\)\]"),
    ([], ValueError, r"got 0 waveforms"),
    ([np.zeros(16000), np.zeros(0)], ValueError, r"item 1 is an empty waveform"),
    ([np.zeros((8000, 2))], ValueError, r"item 0 has shape \(8000, 2\).*x.mean\(axis=1\)"),
    ([np.zeros(16000, np.int16)], TypeError, r"item 0 is an array of int16.*x / 32768"),
    ([np.array([0.0, np.nan] * 500)], ValueError, r"item 0 holds NaN"),
    ([np.array(["a", "b"])], TypeError, r"item 0 is not a float waveform"),
    ([0.5], ValueError, r"item 0 has shape \(\)"),
    ([b"RIFF"], TypeError, r"item 0 is bytes"),
    (["missing.wav"], ValueError, r"item 0, .missing.wav., is not a file"),
    (42, TypeError, r"expects a list of waveforms .* got int"),
])
def test_bad_inputs_raise_clear_errors(X, error, match):
    with pytest.raises(error, match=match):
        AudioFeatureExtractor(tiny()).fit(X)


def test_too_short_waveforms_and_bad_rates_are_refused():
    ext = AudioFeatureExtractor(tiny()).fit(CLIPS)
    with pytest.raises(ValueError, match=r"item 1 is 399 samples at 16000 Hz \(24.9 ms\), too short for "
                                         r"wav2vec2model.*400 samples at 16000 Hz \(25 ms\)"):
        ext.transform([CLIPS[0], np.ones(399)])
    with pytest.raises(ValueError, match=r"item 0 is 199 samples at 8000 Hz"):
        AudioFeatureExtractor(tiny(), sampling_rate=8000).fit(CLIPS).transform([np.ones(199)])
    for rate in (0, -16000, 16000.5, "16k"):
        with pytest.raises(ValueError, match=r"'sampling_rate' parameter of AudioFeatureExtractor must be"):
            AudioFeatureExtractor(tiny(), sampling_rate=rate).fit(CLIPS)
    with pytest.raises(ValueError, match=r"'pooling' parameter .* must be"):
        AudioFeatureExtractor(tiny(), pooling="cls").fit(CLIPS)


def test_wrong_backbones_name_the_right_extractor():
    with pytest.raises(ValueError, match=r"ImageFeatureExtractor reads images, but backbone 'hubert-base-ls960' is "
                                         r"an audio model; use AudioFeatureExtractor"):
        ImageFeatureExtractor("hubert-base-ls960", weights="random", num_workers=0).fit(
            np.zeros((1, 32, 32, 3), np.uint8))
    with pytest.raises(ValueError, match=r"AudioFeatureExtractor reads audio, but backbone 'timm:test_resnet' is an "
                                         r"image model; use ImageFeatureExtractor"):
        AudioFeatureExtractor("timm:test_resnet", weights="random").fit(CLIPS)
    with pytest.raises(TypeError, match=r"wav2vec 2.0 family.*'Linear' model"):
        AudioFeatureExtractor(torch.nn.Linear(2, 2)).fit(CLIPS)


def test_a_task_model_is_read_through_its_encoder():
    """Wav2Vec2ForCTC & co. wrap a Wav2Vec2Model: the extractor reads that."""
    ctc = transformers.Wav2Vec2ForCTC(tiny().config)
    ctc.wav2vec2.load_state_dict(tiny().state_dict())
    np.testing.assert_allclose(AudioFeatureExtractor(ctc).fit(CLIPS).transform(CLIPS),
                               AudioFeatureExtractor(tiny()).fit(CLIPS).transform(CLIPS), atol=1e-6)


def test_a_local_folder_brings_its_own_preprocessing(tmp_path):
    """save_pretrained folders load offline; their preprocessor_config.json sets rate and normalisation."""
    model = tiny()
    model.save_pretrained(tmp_path / "m")
    transformers.Wav2Vec2FeatureExtractor(sampling_rate=8000, do_normalize=False).save_pretrained(tmp_path / "m")
    ext = AudioFeatureExtractor(str(tmp_path / "m"), sampling_rate=8000).fit(CLIPS)
    assert ext.preprocess_config_ == {"sampling_rate": 8000, "normalize": False} and ext.backbone_name_ == "m"
    clip = CLIPS[0]
    with torch.inference_mode():
        want = model(torch.tensor(clip, dtype=torch.float32)[None]).last_hidden_state[0].mean(0).numpy()
    np.testing.assert_allclose(ext.transform([clip])[0], want, rtol=1e-4, atol=1e-5)
    torch.save(model.state_dict(), tmp_path / "same.pt")
    same = AudioFeatureExtractor(str(tmp_path / "m"), weights=str(tmp_path / "same.pt"), sampling_rate=8000)
    np.testing.assert_allclose(same.fit(CLIPS).transform([clip])[0], want, rtol=1e-4, atol=1e-5)


def test_registered_models_build_untrained_from_their_config_classes():
    """weights='random': the wav2vec2-base / hubert-base-ls960 architectures, no file read, the same every time."""
    from sktransfer.deep._backbones._audio import registered_name

    assert {registered_name(s) for s in ("wav2vec2-base", "facebook/wav2vec2-base", "hf:facebook/wav2vec2-base")} \
        == {"wav2vec2-base"}
    assert registered_name("hf:facebook/hubert-base-ls960") == "hubert-base-ls960"
    assert registered_name("facebook/wav2vec2-large") is None
    clips = [CLIPS[2]]
    ext = AudioFeatureExtractor("hubert-base-ls960", weights="random", layer=3).fit(clips)
    assert ext.n_features_out_ == 768 and len(ext.layer_names_) == 14 and ext.backbone_name_ == "hubert_base_ls960"
    blob = pickle.dumps(ext)
    assert len(blob) < 100_000  # the model is not in it
    np.testing.assert_array_equal(pickle.loads(blob).transform(clips), ext.transform(clips))


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """An empty Hugging Face cache and no network: any connection attempt fails loudly."""
    from collections import OrderedDict

    import huggingface_hub.constants

    from sktransfer.deep._backbones import _registry

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    for name in ("connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr(_registry, "_cache", OrderedDict())
    return tmp_path / "hf"


@pytest.mark.parametrize("spec, hub", [("wav2vec2-base", "facebook/wav2vec2-base"),
                                       ("hf:facebook/hubert-base-ls960", "facebook/hubert-base-ls960"),
                                       ("hf:some-org/speech-encoder", "some-org/speech-encoder")])
def test_missing_pretrained_weights_name_the_command_that_fetches_them(offline, spec, hub):
    with pytest.raises(OSError, match=rf"Pretrained weights for backbone 'hf:{hub}' are not available offline") as info:
        AudioFeatureExtractor(spec).fit(CLIPS)
    message = str(info.value)
    assert f"hf download {hub}" in message and f"AutoModel.from_pretrained('{hub}')" in message
    assert "download=True" in message and "weights='random'" in message


def test_a_cached_model_loads_offline(offline):
    """A model in the Hugging Face cache (as huggingface_hub lays it out) loads with download off."""
    snapshot = offline / "models--some-org--speech-encoder" / "snapshots" / ("0" * 40)
    tiny().save_pretrained(snapshot)
    (offline / "models--some-org--speech-encoder" / "refs").mkdir()
    (offline / "models--some-org--speech-encoder" / "refs" / "main").write_text("0" * 40)
    ext = AudioFeatureExtractor("hf:some-org/speech-encoder").fit(CLIPS)
    assert ext.backbone_name_ == "speech_encoder"
    np.testing.assert_allclose(ext.transform(CLIPS), AudioFeatureExtractor(tiny()).fit(CLIPS).transform(CLIPS),
                               rtol=1e-5, atol=1e-6)


def test_fit_without_torch_raises_the_install_hint(monkeypatch):
    for name in ("torch", "transformers"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r"AudioFeatureExtractor needs torch.*pip install 'sktransfer\[torch\]'"):
        AudioFeatureExtractor(weights="random").fit(CLIPS)


def test_random_features_separate_low_from_high_tones():
    """Even untrained, the encoder's features tell 100-300 Hz tones from 1.5-3 kHz ones in noise, of
    random lengths and phases (chance: 0.5; 0.96-1.0 over four data seeds when written)."""
    rng = np.random.default_rng(0)
    clips, labels = [], []
    for i in range(80):
        high = i % 2
        freq = rng.uniform(1500, 3000) if high else rng.uniform(100, 300)
        clips.append(tone(freq, rng.uniform(0.4, 0.8), noise=0.1, seed=i))
        labels.append(high)
    features = AudioFeatureExtractor(tiny()).fit_transform(clips)
    scores = cross_val_score(make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), features, labels,
                             cv=4)
    assert scores.mean() >= 0.85, scores
