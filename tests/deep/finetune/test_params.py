"""The fine-tuning estimators' parameters: each written once, with the names and defaults they always had."""

from __future__ import annotations

import ast
import inspect
import pickle
import re

import pytest
from sklearn.base import clone

from sktransfer.deep import (
    DomainAdaptationClassifier,
    DomainAdaptationRegressor,
    FineTuneClassifier,
    FineTuneRegressor,
)
from sktransfer.deep._finetune._base import _BaseFineTune

#: get_params() of both estimators before the parameters were written once (issue 19): names and defaults
SHARED = {
    "allow_pickle": False, "augment": False, "backbone": "efficientnet_lite0", "batch_size": 32,
    "batchnorm": "frozen", "cache": None, "device": "auto", "download": False, "dropout": 0.0,
    "early_stopping": False, "grad_clip": 1.0, "gradual_unfreezing": False, "head": "linear", "head_epochs": 1,
    "l2sp_alpha": 0.01, "l2sp_beta": 0.01, "layer": -1, "lr": 0.001, "lr_decay": 0.5, "max_epochs": 10,
    "max_length": None, "n_iter_no_change": 3, "n_trainable_blocks": 0, "noise_std": 0.0, "pooling": "auto",
    "precision": "auto", "progress": False, "random_state": None, "regularization": None,
    "validation_fraction": 0.1, "verbose": 0, "warm_start": False, "warmup_fraction": 0.1, "weight_decay": 0.01,
    "weights": "pretrained",
}
EXPECTED = {FineTuneClassifier: {**SHARED, "class_weight": None}, FineTuneRegressor: SHARED}


@pytest.mark.parametrize("cls", [FineTuneClassifier, FineTuneRegressor])
def test_get_params_keys_and_defaults_are_unchanged(cls):
    params = cls().get_params()
    assert params == EXPECTED[cls]
    assert {k: type(v) for k, v in params.items()} == {k: type(v) for k, v in EXPECTED[cls].items()}  # 0 vs 0.0


@pytest.mark.parametrize("cls", [FineTuneClassifier, FineTuneRegressor])
def test_signature_keeps_backbone_positional_and_the_rest_keyword_only(cls):
    params = list(inspect.signature(cls).parameters.values())
    assert params[0].name == "backbone" and params[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params[1:])
    with pytest.raises(TypeError):
        cls(None, -1)  # layer is keyword-only


def test_the_parameters_are_written_once():
    """The regressor inherits the base's __init__; the classifier adds class_weight only (no full copy)."""
    assert FineTuneRegressor.__init__ is _BaseFineTune.__init__
    source = inspect.getsource(FineTuneClassifier)
    assert "def __init__" not in source and "l2sp_alpha=" not in source
    assert set(FineTuneClassifier._parameter_constraints) == set(EXPECTED[FineTuneClassifier])
    assert set(FineTuneRegressor._parameter_constraints) == set(SHARED)


def test_the_added_parameter_is_stored_set_cloned_and_pickled():
    clf = FineTuneClassifier(None, class_weight="balanced", lr=0.5)
    assert clf.class_weight == "balanced" and clf.lr == 0.5 and clf.backbone is None
    assert clone(clf).get_params() == clf.get_params()
    assert clf.set_params(class_weight={0: 2.0}).class_weight == {0: 2.0}
    assert pickle.loads(pickle.dumps(clf)).get_params() == clf.get_params()
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        FineTuneClassifier(colour="red")
    with pytest.raises(TypeError, match="unexpected keyword argument 'class_weight'"):
        FineTuneRegressor(class_weight=None)


@pytest.mark.parametrize("cls", [FineTuneClassifier, FineTuneRegressor, DomainAdaptationClassifier,
                                 DomainAdaptationRegressor])
def test_documented_parameters_and_defaults_match_the_signature(cls):
    """The Parameters section lists every parameter, in signature order, with its real default."""
    section = cls.__doc__.split("Parameters\n    ----------\n")[1].split("\n    Attributes\n")[0]
    documented = {}
    for names, default in re.findall(r"^    (\w[\w, ]*) : .*default=(.+)$", section, flags=re.M):
        for name in names.split(", "):
            documented[name] = ast.literal_eval(default)
    defaults = {n: p.default for n, p in inspect.signature(cls).parameters.items()}
    assert list(documented) == list(defaults)
    assert documented == defaults
