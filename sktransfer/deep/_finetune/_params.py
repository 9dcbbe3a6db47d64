"""The fine-tuning estimators' parameters, documented once, and how a subclass adds one.

``_BaseFineTune.__init__`` lists every parameter shared by the estimators
(its signature and assignments are the only list), ``_parameter_constraints``
beside it checks them, and :func:`parameters_doc` below documents them. An
estimator with one more parameter (``FineTuneClassifier.class_weight``) adds
only that one with :func:`add_parameter` instead of repeating the others.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .._extraction._extractor import LOADING_PARAMS_DOC

_PARAMETERS = """
    Parameters
    ----------
    backbone : str, path, torch.nn.Module or None, default="efficientnet_lite0"
        Any spec of the backbone registry (see :class:`ImageFeatureExtractor`
        and :class:`TextFeatureExtractor`); None trains the head alone on
        feature inputs (a 2-D array).
    layer : int or str, default=-1
        The backbone layer the head reads (``-1``: its pooled output).
    pooling : str, default="auto"
        How that layer is pooled (see the extractors).
    head : "linear" or tuple of int, default="linear"
        The new head: one linear layer, or hidden sizes of an MLP (ReLU).
    dropout : float, default=0.0
        Dropout before each linear layer of the head.
    n_trainable_blocks : int or "all", default=0
        How many backbone blocks, counted from the output, are fine-tuned: 0
        is a frozen feature extractor plus a head, "all" a full fine-tune. Blocks
        are timm's parameter groups (``group_matcher``) or the backbone's layers.
    batchnorm : {"frozen", "train"}, default="frozen"
        How the backbone's BatchNorm layers run while it trains. "frozen":
        in inference mode, on their pretraining statistics (right for small
        target sets; Keras' advice too). "train": those of the blocks being
        trained normalise with batch statistics and update their running
        ones, as ``model.train()`` does; use it to train from random weights
        or on large target sets.
    gradual_unfreezing : bool, default=False
        After the head epochs, unfreeze one more block per epoch, top first
        (ULMFiT).
    head_epochs : int, default=1
        With trainable blocks, the first epochs train the new head alone.
    max_epochs : int, default=10
        Epochs in all (head epochs included).
    batch_size : int, default=32
        Rows per training step.
    lr : float, default=1e-3
        Learning rate of the head.
    lr_decay : float, default=0.5
        Discriminative learning rates: block ``r`` from the top trains at
        ``lr * lr_decay**r``.
    weight_decay : float, default=0.01
        AdamW's decoupled weight decay (0 on the backbone with L2-SP).
    warmup_fraction : float, default=0.1
        Share of the steps with a linear warm-up; cosine decay follows.
    grad_clip : float or None, default=1.0
        Maximum gradient norm.
    regularization : None or "l2sp", default=None
        ``"l2sp"`` pulls fine-tuned weights toward the pretrained ones (Li et
        al. 2018) instead of toward zero.
    l2sp_alpha, l2sp_beta : float, default=0.01
        L2-SP strengths on the backbone (toward the pretrained weights) and on
        the head.
{class_weight}    augment : bool or callable, default=False
        Image augmentation per training batch: True is
        :class:`BatchAugmentation` (a random resized crop, a horizontal flip
        and a colour jitter, drawn per image and applied to the whole batch on
        the device); pass an instance of it to change its ranges. Any other
        callable (a torchvision v2 transform, say) is applied to each CxHxW
        uint8 image.
    noise_std : float, default=0.0
        Gaussian noise added to feature inputs while training, in units of each
        feature's batch standard deviation.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows (stratified for
        classifiers), stop after ``n_iter_no_change`` epochs without a better
        validation loss and restore the best epoch's weights.
    validation_fraction : float, default=0.1
        Share of the rows held out for early stopping.
    n_iter_no_change : int, default=3
        Patience of early stopping, in epochs.
    weights : str, default="pretrained"
        ``"pretrained"``, ``"random"`` or a state-dict file, as in the extractors.
{loading_params}    device : str, default="auto"
        ``"auto"`` picks CUDA, then MPS, then the CPU; an absent device raises.
    precision : {"auto", "fp32", "bf16", "fp16"}, default="auto"
        Autocast dtype; ``"auto"`` is bf16 on GPUs that have it, fp32 on the CPU.
    max_length : int or None, default=None
        Text backbones: tokens kept per text (None: the model's own).
    cache : None, str, path or joblib.Memory, default=None
        The extractor's per-item embedding cache. With a frozen backbone and no
        augmentation the embeddings are computed once, through it, and only the
        head trains.
    warm_start : bool, default=False
        ``fit`` continues from the current weights instead of starting anew.
    random_state : int, RandomState instance or None, default=None
        Seeds the head's initialisation, the shuffling, the split and the
        augmentation (the global torch RNG is restored afterwards).
    verbose : int, default=0
        Log one line per epoch.
    progress : bool, default=False
        Progress bars while embedding.
"""

_CLASS_WEIGHT = """    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss: a dict keyed by label (missing
        labels weigh 1), or "balanced" (``compute_class_weight`` over the
        ``y`` of each fit; refused by ``partial_fit``, whose batches are too
        few to count). Applied anew at every fit, warm starts included.
"""


def parameters_doc(*, classifier: bool, head_default: str = '"linear"', extra: str = "") -> str:
    """The numpydoc Parameters section of a fine-tuning estimator.

    ``class_weight`` for classifiers; ``head_default`` as written in the
    ``head`` line; ``extra`` documents the parameters an estimator adds after
    ``progress`` (the last of the base).
    """
    text = (_PARAMETERS.replace("{class_weight}", _CLASS_WEIGHT if classifier else "")
            .replace("{loading_params}", LOADING_PARAMS_DOC)
            .replace('head : "linear" or tuple of int, default="linear"',
                     f'head : "linear" or tuple of int, default={head_default}'))
    return text + extra


def add_parameter(init: Callable, name: str, default: Any, *, after: str) -> Callable:
    """``init`` with one more keyword-only parameter, ``name``, stored unchanged, placed after ``after``.

    scikit-learn reads an estimator's parameters from the signature of its
    ``__init__`` (``BaseEstimator._get_param_names``) and refuses ``**kwargs``
    there. ``inspect.signature`` honours ``__signature__``, so the function
    returned carries the full explicit signature (the base's parameters plus
    ``name``): ``get_params``, ``set_params``, ``clone``, the estimator checks
    and the documentation see it as if written out, and the base's
    parameters are written only in the base. Unknown arguments raise the
    base's own TypeError.

    Parameters
    ----------
    init : callable
        The base class's ``__init__``.
    name : str
        The new parameter.
    default : object
        Its default.
    after : str
        The parameter it follows in the signature (and in the docstring).

    Returns
    -------
    __init__ : callable
        The subclass's ``__init__``.
    """
    base = inspect.signature(init)
    params = list(base.parameters.values())
    position = [p.name for p in params].index(after) + 1
    added = inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
    signature = base.replace(parameters=params[:position] + [added] + params[position:])

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        value = kwargs.pop(name, default)
        init(self, *args, **kwargs)
        setattr(self, name, value)

    __init__.__signature__ = signature  # type: ignore[attr-defined]
    __init__.__doc__ = f"Store the parameters unchanged (those of the base, and ``{name}``)."
    return __init__


def change_defaults(init: Callable, **defaults: Any) -> Callable:
    """``init`` with other defaults for some of its parameters (same names, same order).

    For an estimator that needs another default than its base (a domain-
    adaptation network needs a hidden layer to align, so its ``head``
    defaults to ``(256,)``) without writing the base's parameters again.
    The signature carries the new defaults, so ``get_params`` and ``clone``
    see them.
    """
    base = inspect.signature(init)
    unknown = set(defaults) - set(base.parameters)
    if unknown:
        raise TypeError(f"change_defaults: no parameter {sorted(unknown)} in {init.__qualname__}")
    signature = base.replace(parameters=[
        p.replace(default=defaults[p.name]) if p.name in defaults else p for p in base.parameters.values()])

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        for name, value in defaults.items():
            kwargs.setdefault(name, value)
        init(self, *args, **kwargs)

    __init__.__signature__ = signature  # type: ignore[attr-defined]
    __init__.__doc__ = init.__doc__
    return __init__


#: the Attributes section shared by the fine-tuning estimators and the estimators built on them
DOC_ATTRS = """
    Attributes
    ----------
    net_ : torch.nn.Module
        The trained network (backbone copy and head).
    extractor_ : DeepFeatureExtractor or None
        The fitted extractor that reads inputs (None for feature inputs).
    history_ : list of dict
        Per epoch: ``train_loss``, ``n_trainable_blocks``, ``lr``, ``seconds``
        and, with early stopping, ``val_loss`` and ``val_score``.
    n_epochs_ : int
        Epochs run.
    best_epoch_ : int
        With early stopping, the epoch whose weights were restored."""



#: the Notes section of FineTuneClassifier and FineTuneRegressor
DOC_NOTES = """    Notes
    -----
    The backbone runs in eval mode, also while its blocks train: BatchNorm
    keeps its pretraining statistics (unless ``batchnorm="train"``) and the
    backbone's dropout is off, so frozen blocks (weights and buffers) stay
    bit-identical, and small target sets cannot corrupt the running
    statistics. Blocks are counted from
    the backbone's output, so training blocks requires ``layer=-1``. With
    fp16 (GPUs without bf16) the loss is scaled against gradient underflow.
    ``partial_fit`` runs one epoch at constant learning rates; AdamW's
    moment estimates carry over from one call to the next (as in
    scikit-learn's MLPs). Augmentation and feature noise draw from a generator
    of their own, seeded by ``random_state``.

"""
