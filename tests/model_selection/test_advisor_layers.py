"""TransferAdvisor(extractor=..., layers=...): the layer read is chosen by agreement with every layer's vote."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.preprocessing import StandardScaler

from sktransfer.alignment import CORAL
from sktransfer.domain import mask_target_labels
from sktransfer.model_selection import TransferAdvisor
from sktransfer.model_selection._advisor_layers import choose_layer

SMALL = {"no adaptation": [StandardScaler()], "CORAL": [StandardScaler(), CORAL()]}


class Views(BaseEstimator, TransformerMixin):
    """A stand-in for a frozen extractor: ``layer`` picks which view of the raw rows it returns.

    "signal": the informative columns; "noise": columns that carry no label;
    "blurred": the signal drowned in noise on the target rows only (the
    blurred-target case of benchmarks/layer_selection.py in miniature).
    """

    def __init__(self, layer="signal"):
        self.layer = layer

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def transform(self, X):
        X = np.asarray(X, dtype=float)
        signal, noise, flag = X[:, :4], X[:, 4:8], X[:, 8:9]
        if self.layer in ("signal", "main"):  # two names of one layer, as -1 and "pooled" are
            return signal
        if self.layer == "noise":
            return noise
        return signal + 6.0 * flag * noise  # flag is 1 on target rows


def _data(seed=0):
    """Two classes, a mild covariate shift in the signal columns, then 4 noise columns and the target flag."""
    rng = np.random.RandomState(seed)
    n = 400
    y = np.arange(n) % 2
    sd = np.where(np.arange(n) < n // 2, 1, -2)
    signal = rng.normal(size=(n, 4)) + 1.5 * (2 * y[:, None] - 1) + 0.5 * (sd < 0)[:, None]
    raw = np.hstack([signal, rng.normal(size=(n, 4)), (sd < 0)[:, None].astype(float)])
    return raw, y, sd


def test_picks_the_informative_layer_and_reads_it_in_the_refit():
    raw, y, sd = _data()
    layers = ["noise", "blurred", "signal"]
    advisor = TransferAdvisor(candidates=SMALL, extractor=Views(), layers=layers, random_state=0)
    advisor.fit(raw, mask_target_labels(y, sd), sample_domain=sd)
    assert advisor.layer_ == "signal"
    assert set(advisor.layer_scores_) == set(layers)
    assert advisor.layer_scores_["signal"] == max(advisor.layer_scores_.values())
    assert advisor.layer_scores_["noise"] < 0.8  # near chance against the committee's vote
    reader = advisor.best_estimator_.steps[0][1]
    assert isinstance(reader, Views) and reader.layer == "signal"
    target_acc = float(np.mean(advisor.predict(raw[sd < 0]) == y[sd < 0]))
    wrong = clone(advisor).set_params(layers=["noise"]).fit(raw, mask_target_labels(y, sd), sample_domain=sd)
    assert target_acc > float(np.mean(wrong.predict(raw[sd < 0]) == y[sd < 0])) + 0.2
    assert "Layer 'signal'" in advisor.explain()
    again = pickle.loads(pickle.dumps(advisor))
    np.testing.assert_array_equal(again.predict(raw), advisor.predict(raw))


def test_choose_layer_scores_are_agreement_with_the_mean_vote():
    """By hand: two layers, the vote is the class of highest mean probability over them."""
    raw, y, sd = _data(1)
    from sklearn.linear_model import LogisticRegression

    from sktransfer import make_da_pipeline

    features = {k: Views(k).fit_transform(raw) for k in ("signal", "noise")}
    y_fit = mask_target_labels(y, sd)
    best, scores = choose_layer(features, y_fit, sd, LogisticRegression())
    probas = {k: make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression()).fit(Z, y_fit, sample_domain=sd)
              .predict_proba(Z[sd < 0]) for k, Z in features.items()}
    vote = (probas["signal"] + probas["noise"]).argmax(axis=1)
    for k in features:
        assert scores[k] == pytest.approx(np.mean(probas[k].argmax(axis=1) == vote))
    assert best == max(scores, key=scores.get)


def test_without_layers_nothing_changes():
    raw, y, sd = _data()
    plain = TransferAdvisor(candidates=SMALL, random_state=0).fit(raw[:, :4], mask_target_labels(y, sd),
                                                                  sample_domain=sd)
    assert plain.layer_ is None and plain.layer_scores_ == {}
    assert not plain.explain().startswith("Layer")


@pytest.mark.parametrize("params, match", [
    ({"layers": ["signal"]}, "pass extractor= too"),
    ({"layers": [], "extractor": Views()}, "no layer to compare"),
    ({"layers": ["signal", "signal"], "extractor": Views()}, "lists a layer twice"),
    # the extractor was dropped without a word: the candidates ran on the raw rows
    ({"extractor": Views()}, "reads the layers listed in layers="),
    # True == 1 as a dict key: one layer was compared, under the name True
    ({"layers": [True, 1], "extractor": Views()}, "not a bool"),
    # two names of one layer voted twice in the committee
    ({"layers": ["signal", "main"], "extractor": Views()}, "'signal' and 'main' give the same features"),
    ({"layers": [1], "extractor": StandardScaler()}, "does not have"),
])
def test_bad_layer_settings_are_refused_by_name(params, match):
    raw, y, sd = _data()
    with pytest.raises(ValueError, match=match):
        TransferAdvisor(candidates=SMALL, **params).fit(raw, mask_target_labels(y, sd), sample_domain=sd)


def test_committee_agreement_by_hand():
    """Three candidates' probabilities on four rows: the vote is the class of highest mean probability."""
    from sktransfer.model_selection._advisor_evidence import committee_agreement

    classes = np.array(["a", "b"])
    p = {"x": np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.4, 0.6]]),
         "y": np.array([[0.8, 0.2], [0.1, 0.9], [0.3, 0.7], [0.9, 0.1]]),
         "z": np.array([[0.4, 0.6], [0.45, 0.55], [0.4, 0.6], [0.3, 0.7]])}
    summaries = {k: {"proba": v, "pred": classes[v.argmax(axis=1)], "classes": classes} for k, v in p.items()}
    # mean probability of "a": 0.70, 0.383, 0.30, 0.533 -> vote a, b, b, a
    assert committee_agreement(summaries) == {"x": 0.5, "y": 1.0, "z": 0.5}
    summaries["w"] = {"proba": None, "pred": np.array(["b", "b", "b", "b"]), "classes": classes}
    # w votes one-hot b: mean of "a" 0.525, 0.2875, 0.225, 0.4 -> a, b, b, b
    assert committee_agreement(summaries)["w"] == 0.75
