"""Prediction, learning curves and pickling of the fine-tuning estimators."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._extraction._inputs import input_reader
from .._runtime import BatchRunner, resolve_batch_size, resolve_runtime, run_batches, training_runtime
from .._torch import import_torch


class FineTunePredictMixin:
    """What a fitted fine-tuner does: run its network, plot its history, travel as a pickle."""

    def _outputs(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        torch = import_torch(self._owner())
        runtime = resolve_runtime(self.device, self.precision, False, owner=self._owner())
        net = self.net_.to(runtime.device).eval()
        head_only = net.adapter is None  # what was fitted, whatever set_params changed since
        if self.backbone is None:
            X = self._validate_features(X, reset=False)
        elif head_only:
            X = self.extractor_.transform(X)
        if head_only:
            runner = BatchRunner(lambda b: net(b.to(runtime.device)), runtime, 1024, owner=self._owner())
            return runner(torch.as_tensor(np.asarray(X, dtype=np.float32)))
        reader, adapter = input_reader(self.extractor_), net.adapter
        items = reader.check(X)
        runtime = training_runtime(runtime, adapter.modality == "image")
        adapter.to(runtime.device, runtime.channels_last)
        # Without gradients a forward pass needs a fraction of a training step's memory: chunks as large as
        # the extractor's (the runner halves them on out-of-memory), and never below the training batch.
        chunk = max(self.batch_size, resolve_batch_size("auto", runtime, adapter.modality))
        runner = BatchRunner(lambda b: net.head(adapter.features(reader.prepare(b, adapter, runtime), net.layer,
                                                                 net.pooling)), runtime, chunk,
                             owner=self._owner())
        out = np.empty((len(items), net.head[-1].out_features), np.float32)
        batches = reader.batches(items, np.arange(len(items)), adapter, runtime, [])
        for rows, res in run_batches(runner, batches, len(items), progress=False, desc=self._owner()):
            out[rows] = res
        return out

    def plot_history(self, ax: Any = None) -> Any:
        """Plot training (and validation) loss per epoch, and the validation score if recorded.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.

        Returns
        -------
        ax : matplotlib Axes
            The axes drawn on.
        """
        check_is_fitted(self)
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        epochs = [r["epoch"] for r in self.history_]
        ax.plot(epochs, [r["train_loss"] for r in self.history_], label="train loss")
        if "val_loss" in self.history_[0]:
            ax.plot(epochs, [r["val_loss"] for r in self.history_], label="validation loss")
            twin = ax.twinx()
            twin.plot(epochs, [r["val_score"] for r in self.history_], "g--", label="validation score")
            twin.set_ylabel("validation score")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.legend(loc="upper right")
        return ax

    # -- pickling: weights travel as a state dict, the model is rebuilt on load -----------
    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())
        net = state.pop("net_", None)
        if net is not None:
            state["_net_state"] = {k: v.detach().cpu() for k, v in net.state_dict().items()}
            state["_net_shape"] = (getattr(net.head[-1], "in_features", None), net.head[-1].out_features,
                                   _head_in(net))
        return state

    def __setstate__(self, state: dict) -> None:
        net_state = state.pop("_net_state", None)
        shape = state.pop("_net_shape", None)
        super().__setstate__(state)
        if net_state is not None:
            # The fitted network's kind, not the current params (set_params may have changed them).
            # Architecture only (weights="random"): every weight comes from the pickle, so
            # loading needs no pretrained weights on this machine.
            builder = copy.copy(self)
            builder.__dict__.update(getattr(self, "_net_params", {}))
            torch = import_torch(self._owner())
            with torch.random.fork_rng(devices=[]):  # the head's throwaway initial weights draw from the RNG
                self.net_ = builder._new_net(shape[2], shape[1], weights="random",
                                             with_backbone=any(k.startswith("body.") for k in net_state))
            self.net_.load_state_dict(net_state)
            self.net_.eval()




def _head_in(net: Any) -> int:
    first = [m for m in net.head if hasattr(m, "in_features")][0]
    return first.in_features
