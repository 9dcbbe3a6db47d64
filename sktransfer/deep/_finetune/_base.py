"""The fit flow shared by ``FineTuneClassifier`` and ``FineTuneRegressor``: its parameters, data, network and phases.

The base reads the inputs (through the extractor and its input reader),
builds the network (``_net``), groups its parameters (``_blocks``) and hands
the run to the training loop (``_training``); the estimators add their
targets, loss and scores (``_estimators``).
"""

from __future__ import annotations

import logging
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_consistent_length

from ..._compat import Interval, StrOptions, validate_data
from ..._finite import check_magnitude
from ..._rows import _take
from ...domain import check_domains
from .._backbones._registry import DEFAULT_IMAGE_BACKBONE, resolve_backbone, spec_modality
from .._extraction._image_extractor import ImageFeatureExtractor
from .._extraction._inputs import input_reader
from .._extraction._text_extractor import TextFeatureExtractor
from .._runtime import PRECISIONS, prefetch, resolve_runtime, training_runtime
from .._torch import import_torch
from ._augment import BatchAugmentation
from ._blocks import named_block_parameters, parameter_groups
from ._data import TrainingData, all_files, all_str, iterate
from ._net import build_net
from ._predict import FineTunePredictMixin
from ._training import (
    L2SP,
    ConstantSchedule,
    EarlyStopping,
    Loop,
    Unfreezing,
    host_copy,
    make_optimizer,
    resume_optimizer,
    run_epochs,
)

logger = logging.getLogger(__name__)


class _BaseFineTune(FineTunePredictMixin, BaseEstimator):
    """Shared fit/predict machinery of the fine-tuning estimators (see FineTuneClassifier)."""

    _parameter_constraints: dict = {
        "backbone": "no_validation",
        "layer": [Integral, str],
        "pooling": [str],
        "head": [StrOptions({"linear"}), tuple, list],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "n_trainable_blocks": [Interval(Integral, 0, None, closed="left"), StrOptions({"all"})],
        "batchnorm": [StrOptions({"frozen", "train"})],
        "gradual_unfreezing": ["boolean"],
        "head_epochs": [Interval(Integral, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "lr_decay": [Interval(Real, 0, 1, closed="right")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "warmup_fraction": [Interval(Real, 0, 1, closed="left")],
        "grad_clip": [None, Interval(Real, 0, None, closed="neither")],
        "regularization": [None, StrOptions({"l2sp"})],
        "l2sp_alpha": [Interval(Real, 0, None, closed="left")],
        "l2sp_beta": [Interval(Real, 0, None, closed="left")],
        "augment": ["boolean", callable],
        "noise_std": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "weights": [str],
        "download": ["boolean"],
        "allow_pickle": ["boolean"],
        "device": [str],
        "precision": [StrOptions(set(PRECISIONS))],
        "max_length": [None, Interval(Integral, 1, None, closed="left")],
        "cache": "no_validation",
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "progress": ["boolean"],
    }

    def __init__(self, backbone=DEFAULT_IMAGE_BACKBONE, *, layer=-1, pooling="auto", head="linear", dropout=0.0,
                 n_trainable_blocks=0, batchnorm="frozen", gradual_unfreezing=False, head_epochs=1, max_epochs=10,
                 batch_size=32, lr=1e-3, lr_decay=0.5, weight_decay=0.01, warmup_fraction=0.1, grad_clip=1.0,
                 regularization=None, l2sp_alpha=0.01, l2sp_beta=0.01, augment=False, noise_std=0.0,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=3, weights="pretrained",
                 download=False, allow_pickle=False, device="auto", precision="auto", max_length=None, cache=None,
                 warm_start=False, random_state=None, verbose=0, progress=False):
        self.backbone = backbone
        self.layer = layer
        self.pooling = pooling
        self.head = head
        self.dropout = dropout
        self.n_trainable_blocks = n_trainable_blocks
        self.batchnorm = batchnorm
        self.gradual_unfreezing = gradual_unfreezing
        self.head_epochs = head_epochs
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_decay = lr_decay
        self.weight_decay = weight_decay
        self.warmup_fraction = warmup_fraction
        self.grad_clip = grad_clip
        self.regularization = regularization
        self.l2sp_alpha = l2sp_alpha
        self.l2sp_beta = l2sp_beta
        self.augment = augment
        self.noise_std = noise_std
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.weights = weights
        self.download = download
        self.allow_pickle = allow_pickle
        self.device = device
        self.precision = precision
        self.max_length = max_length
        self.cache = cache
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.progress = progress

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = self.backbone is None  # features; otherwise images or texts
        tags.input_tags.string = self.backbone is not None
        return tags

    # -- pieces ---------------------------------------------------------------------
    def _owner(self) -> str:
        return type(self).__name__

    def _frozen_fast_path(self) -> bool:
        """A frozen backbone without image augmentation: embeddings once, head only."""
        return self.backbone is not None and self.n_trainable_blocks == 0 and not self.augment

    def _head_only(self) -> bool:
        """Whether the network is the head alone (feature inputs, or the frozen fast path)."""
        return self.backbone is None or self._frozen_fast_path()

    def _extractor(self) -> Any:
        common = dict(layer=self.layer, pooling=self.pooling, weights=self.weights, download=self.download,
                      allow_pickle=self.allow_pickle, device=self.device,
                      precision=self.precision, batch_size="auto", cache=self.cache,
                      progress=self.progress)
        if spec_modality(self.backbone) == "text":
            return TextFeatureExtractor(self.backbone, max_length=self.max_length, **common)
        return ImageFeatureExtractor(self.backbone, **common)

    def _training_data(self, X: Any, *, reset: bool) -> TrainingData:
        owner = self._owner()
        if self.backbone is None:
            return TrainingData("features", self._validate_features(X, reset=reset))
        modality = spec_modality(self.backbone)
        if modality == "text" and not all_str(X):
            raise ValueError(f"{owner}: backbone {self.backbone!r} is a text model, but X does not hold texts; "
                             "use an image backbone (e.g. 'efficientnet_lite0') for images.")
        if modality == "image" and all_str(X) and not all_files(X):
            raise ValueError(f"{owner}: backbone {self.backbone!r} is an image model, but X holds strings that are "
                             "not image files; use a text backbone (e.g. 'all-MiniLM-L6-v2') for texts.")
        extractor = self.extractor_ if hasattr(self, "extractor_") and not reset else self._extractor().fit(X)
        if reset:
            self.extractor_ = extractor
        if self._frozen_fast_path():
            return TrainingData("features", extractor.transform(X))
        backbone = self.net_.adapter if hasattr(self, "net_") and not reset else None
        reader = input_reader(extractor)  # reads X as the extractor does (the extraction wing's input protocol)
        return TrainingData("texts" if modality == "text" else "images", reader.check(X), reader, backbone)

    def _validate_features(self, X: Any, *, reset: bool) -> np.ndarray:
        """``validate_data`` for feature rows (``backbone=None``), refusing values too large to square."""
        return check_magnitude(validate_data(self, X, dtype=np.float32, reset=reset), self._owner())

    def _shared_backbone(self, weights: str) -> Any:
        """The registry's (shared, read-only) backbone for ``weights``."""
        return resolve_backbone(self.backbone, weights, spec_modality(self.backbone), owner=self._owner(),
                                download=self.download, allow_pickle=self.allow_pickle)

    def _new_net(self, n_in: int | None, n_out: int, *, with_backbone: bool | None = None,
                 weights: str | None = None) -> Any:
        adapter = None
        if with_backbone is None:
            with_backbone = not self._head_only()
        if with_backbone:
            # Training must never touch the shared, cached model.
            adapter = self._shared_backbone(weights or self.weights).training_copy()
            n_in = self.extractor_.n_features_out_
        return build_net(adapter, self.head, n_in, n_out, layer=self.layer, pooling=self.pooling,
                         dropout=self.dropout, owner=self._owner())

    def _param_groups(self, net: Any) -> tuple[list[dict], list[list[Any]]]:
        """Head at ``lr``; trainable block ``r`` from the top at ``lr * lr_decay**r``; blocks top first."""
        # Under L2-SP the only penalties are l2sp_alpha and l2sp_beta (Li et al.), not weight decay as well.
        return parameter_groups(net, n_trainable_blocks=self.n_trainable_blocks, lr=self.lr, lr_decay=self.lr_decay,
                                weight_decay=0.0 if self.regularization == "l2sp" else self.weight_decay)

    # -- the fit --------------------------------------------------------------------
    def _labelled(self, X: Any, y: np.ndarray) -> tuple[Any, np.ndarray]:
        """``X`` and ``y`` without their unlabelled rows, by the library's mask rule.

        ``-1`` (or ``NaN``) marks an unlabelled class label and ``NaN`` an
        unlabelled regression target (:func:`sktransfer.domain.check_domains`
        reads ``y`` as this estimator's task): such rows are target rows
        without a label, never trained on, never a class.
        """
        check_consistent_length(X, y)
        labelled = check_domains(X, y, estimator=self, needs=("source_labels",)).labelled
        if labelled.all():
            return X, y
        rows = np.flatnonzero(labelled)
        return _take(X, rows), y[rows]

    def _training_rows(self, X: Any, y: np.ndarray, sample_domain: Any) -> tuple[Any, np.ndarray]:
        """The rows a fit trains on: the labelled ones here; domain adaptation keeps the target rows too."""
        return self._labelled(X, y)

    def _fit(self, X: Any, y: np.ndarray, *, partial: bool, sample_domain: Any = None) -> Any:
        torch = import_torch(self._owner())
        X, y = self._training_rows(X, y, sample_domain)
        rng = np.random.RandomState(self.random_state) if not isinstance(self.random_state, np.random.RandomState) \
            else self.random_state
        seed = int(rng.randint(0, 2**31 - 1))
        fresh = not (hasattr(self, "net_") and (self.warm_start or partial))
        if not fresh and (self.net_.adapter is None) != self._head_only():
            raise ValueError(
                f"{self._owner()}: {'partial_fit' if partial else 'warm_start=True'} continues the fitted network, "
                f"which {'is the head alone' if self.net_.adapter is None else 'runs the backbone'}, but the "
                f"current settings need {'the head alone' if self._head_only() else 'the backbone in it'} (a "
                "frozen backbone without augmentation trains the head on precomputed embeddings). Keep "
                "n_trainable_blocks and augment as they were, or set warm_start=False to start anew."
            )
        if self.n_trainable_blocks != 0 and self.backbone is not None and self.layer not in (-1, "pooled"):
            raise ValueError(
                f"{self._owner()}: n_trainable_blocks={self.n_trainable_blocks!r} with layer={self.layer!r}: "
                "blocks are counted from the backbone's output, and those above an inner layer would get no "
                "gradient. Fine-tune with layer=-1, or read an inner layer with n_trainable_blocks=0."
            )
        runtime = resolve_runtime(self.device, self.precision, False, owner=self._owner())
        devices = [runtime.device.index or 0] if runtime.is_cuda else []
        with torch.random.fork_rng(devices=devices):  # seeded without touching the caller's RNG state
            data = self._training_data(X, reset=fresh)
            # Seeded once the backbone is loaded: a first load (random init) must not shift the head's init.
            torch.manual_seed(seed)
            targets = self._encode_targets(y, fit=fresh)
            if fresh:
                # What the network is built from, as fitted: a pickle rebuilds it from these, whatever
                # set_params changed since.
                self._net_params = {k: getattr(self, k) for k in ("backbone", "layer", "pooling", "head", "dropout")}
                self.net_ = self._new_net(data.inputs.shape[1] if data.kind == "features" else None,
                                          self._n_outputs())
                self.history_ = []
            runtime = training_runtime(runtime, data.kind == "images")
            net = self.net_.to(runtime.device)
            if net.adapter is not None:
                net.adapter.to(runtime.device, runtime.channels_last)
                data.backbone = net.adapter
            if data.kind == "images":  # decoded once, at the input size of the network's backbone
                data.inputs = data.reader.host_batch(data.inputs, np.arange(len(data)), net.adapter)
            data.place(runtime)
            self._train(net, data, targets, runtime, rng, seed=seed, partial=partial)
        return self

    def _train(self, net: Any, data: TrainingData, targets: np.ndarray, runtime: Any,
               rng: np.random.RandomState, *, seed: int, partial: bool) -> None:
        """Set up the run (groups, optimiser, batches, validation) and hand it to the training loop."""
        torch = import_torch(self._owner())
        groups, blocks = self._param_groups(net)
        targets_on_device = torch.as_tensor(targets).to(runtime.device)
        # Augmentation and noise draw from their own generator: the same draws whichever thread
        # prepares the batches, and the same as before for dropout in the model.
        generator = torch.Generator(device=runtime.device).manual_seed(seed + 1)
        rows = self._supervised_rows(targets)
        train_rows, val_rows = rows, None
        if self.early_stopping and not partial:
            train_rows, val_rows = self._validation_split(rows, targets[rows], rng)
        augment = None
        if self.augment and data.kind == "images":
            augment = self.augment if callable(self.augment) else BatchAugmentation()
        penalty = self._l2sp(net, blocks) if self.regularization == "l2sp" else None
        epochs = 1 if partial else self.max_epochs
        steps = epochs * max(1, int(np.ceil(len(train_rows) / self.batch_size)))
        objective = self._objective(net, runtime, seed=seed, total_steps=steps)
        if objective is not None:  # modules of an extra loss (a domain discriminator) train beside the head
            groups = groups + objective.param_groups(lr=self.lr, weight_decay=self.weight_decay)
        loop = Loop(net, self._loss_fn(runtime), runtime, grad_clip=self.grad_clip, penalty=penalty,
                    batch_loss=None if objective is None else objective)
        optimizer, scheduler = make_optimizer(groups, weight_decay=self.weight_decay, total_steps=steps,
                                              warmup_fraction=0.0 if partial else self.warmup_fraction)
        if partial:
            scheduler = ConstantSchedule()
            resume_optimizer(optimizer, getattr(self, "_optimizer_state", None))

        def train_batches() -> Any:
            batches = iterate(data, targets_on_device, train_rows, self.batch_size, runtime, train=True, rng=rng,
                              augment=augment, noise_std=self.noise_std, generator=generator)
            if objective is not None:  # each batch carries what the extra loss reads (e.g. target inputs)
                batches = objective.batches(batches, data, runtime, rng=rng, augment=augment,
                                            noise_std=self.noise_std, generator=generator)
            if runtime.is_cuda and data.placement != "device":
                batches = prefetch(batches)  # host work of the next batch overlaps this step
            return batches

        def validate() -> tuple[float, float]:
            val_loss, out = loop.evaluate(iterate(data, targets_on_device, val_rows, self.batch_size, runtime,
                                                  train=False))
            return val_loss, self._score_outputs(out, targets[val_rows])

        def log(record: dict) -> None:
            logger.info("%s epoch %d: %s", self._owner(), record["epoch"], record)

        stopper = EarlyStopping(self.n_iter_no_change) if val_rows is not None else None
        unfreezing = Unfreezing(blocks, self.head_epochs, self.gradual_unfreezing, partial=partial,
                                train_batchnorm=self.batchnorm == "train")
        run_epochs(loop, optimizer, scheduler, epochs=epochs, unfreezing=unfreezing, train_batches=train_batches,
                   history=self.history_, validate=validate if val_rows is not None else None, stopper=stopper,
                   log=log if self.verbose else None)
        if partial:  # AdamW's moments carry over to the next partial_fit, as in sklearn's MLPs
            self._optimizer_state = host_copy(optimizer.state_dict())
        else:
            self.__dict__.pop("_optimizer_state", None)
        if stopper is not None:
            self.best_epoch_ = stopper.best_epoch
        else:  # the weights are no longer those of an earlier fit's best epoch
            self.__dict__.pop("best_epoch_", None)
        self.n_epochs_ = len(self.history_)

    def _supervised_rows(self, targets: np.ndarray) -> np.ndarray:
        """Rows of the supervised loss (and of the validation split): every training row here."""
        return np.arange(len(targets))

    def _objective(self, net: Any, runtime: Any, *, seed: int, total_steps: int) -> Any:
        """None: the loss of a batch is the supervised loss of its labelled rows.

        Estimators with a loss of their own return an object that is called as
        ``batch_loss(batch)`` by the training loop (see ``_training.Loop``), with
        ``param_groups(lr=, weight_decay=)`` for the modules it trains and
        ``batches(supervised_batches, data, runtime, ...)`` adding to each batch
        what that loss reads.
        """
        return None

    def _l2sp(self, net: Any, blocks: list[list[Any]]) -> L2SP:
        """L2-SP toward the pretrained weights (the shared model), also across warm starts and partial fits."""
        trainable, start = {}, {}
        if blocks:
            trainable = named_block_parameters(net, blocks)
            shared = self._shared_backbone(self.weights)
            pretrained = dict(shared.module.named_parameters())
            start = {n: pretrained[n] for n in trainable}
        return L2SP(trainable, net.head.parameters(), self.l2sp_alpha, self.l2sp_beta, start=start)

    def _validation_split(self, rows: np.ndarray, targets: np.ndarray, rng: np.random.RandomState):
        stratify = targets if hasattr(self, "classes_") and np.bincount(targets).min() >= 2 else None
        try:
            return train_test_split(rows, test_size=self.validation_fraction, stratify=stratify,
                                    random_state=rng.randint(0, 2**31 - 1))
        except ValueError:  # too few rows per class for a stratified split
            return train_test_split(rows, test_size=self.validation_fraction, random_state=rng.randint(0, 2**31 - 1))
