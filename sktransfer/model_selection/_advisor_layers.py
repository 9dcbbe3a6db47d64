"""TransferAdvisor's layer choice: which layer of a feature extractor to read, without target labels.

A committee of one CORAL model per candidate layer votes on each target row
(the class of highest mean probability); the layer whose own CORAL model
agrees with the vote on the most target rows is read. This is ensemble
validation (:class:`EnsembleAgreementScorer`) over the layers: on
``benchmarks/layer_selection.py`` (COIL20 sharp -> blurred or noisy, MNIST
-> USPS blurred or sharp, EfficientNet-Lite0 layers -5 .. -1) its pick is
1.1 points from the best layer on average, where the importance-weighted
and DEV scores' picks are 12.1 and 11.6 points away and the default layer
12.9; LogME, which ranks the source features alone, is 8.6 away.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone

from ..pipeline import make_da_pipeline
from ._advisor_evidence import committee_agreement, prediction_summary

__all__ = ["check_layers", "choose_layer", "layer_features"]


def check_layers(extractor: Any, layers: Any) -> list:
    """The candidate layers as a list, after checking that ``extractor`` can read each."""
    if layers is None:
        if extractor is not None:
            # It was dropped without a word: the candidates ran on the raw X (2-D waveforms for an audio
            # extractor, so a silent pick on raw samples).
            raise ValueError("TransferAdvisor(extractor=...) reads the layers listed in layers=: pass "
                             "layers=[extractor.layer] to read the extractor's own layer, or several to compare.")
        return []
    if extractor is None:
        raise ValueError("TransferAdvisor(layers=...) compares layers of a feature extractor: pass extractor= too "
                         "(e.g. ImageFeatureExtractor()).")
    if "layer" not in extractor.get_params(deep=False):
        raise ValueError(f"TransferAdvisor(layers=...) sets the extractor's 'layer' parameter, which "
                         f"{type(extractor).__name__} does not have.")
    layers = list(layers) if isinstance(layers, (list, tuple, np.ndarray, range)) else [layers]
    if not layers:
        raise ValueError("TransferAdvisor(layers=[]) has no layer to compare: pass at least one, or layers=None.")
    if any(isinstance(layer, (bool, np.bool_)) for layer in layers):
        # True == 1 as a key: [True, 1] compared one layer, under the name True
        raise ValueError(f"TransferAdvisor(layers={layers!r}): a layer is an int position or a name, not a bool.")
    if len(set(map(str, layers))) != len(layers):
        raise ValueError(f"TransferAdvisor(layers={layers!r}) lists a layer twice.")
    return layers


def layer_features(extractor: Any, layers: list, X: Any) -> dict:
    """``{layer: features of every row}`` from a clone of the (frozen) extractor set to each layer."""
    out = {}
    for layer in layers:
        reader = clone(extractor).set_params(layer=layer)
        out[layer] = np.asarray(reader.fit(X).transform(X))
        same = [other for other in out if other is not layer and np.array_equal(out[other], out[layer])]
        if same:
            # two spellings of one layer (-1 and "pooled"): it would vote twice in the committee
            raise ValueError(f"TransferAdvisor(layers=...) lists one layer twice: {same[0]!r} and {layer!r} give the "
                             "same features. List each layer once.")
    return out


def choose_layer(features: dict, y: np.ndarray, sample_domain: np.ndarray, estimator: Any) -> tuple[Any, dict]:
    """The layer whose CORAL model agrees most with the committee of every layer's, and each layer's agreement.

    Ties go to the layer listed first.
    """
    from sklearn.preprocessing import StandardScaler

    from ..alignment import CORAL

    target = np.asarray(sample_domain) < 0
    summaries = {}
    for layer, Z in features.items():
        model = make_da_pipeline(StandardScaler(), CORAL(), clone(estimator), check_negative_transfer=False)
        model.fit(Z, y, sample_domain=sample_domain)
        summaries[layer] = prediction_summary(model, Z[target])
    scores = committee_agreement(summaries)
    best = max(scores, key=lambda layer: scores[layer])  # max keeps the first of equal scores
    return best, scores
