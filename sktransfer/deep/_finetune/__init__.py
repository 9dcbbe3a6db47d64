"""Third wing of ``sktransfer.deep``: fine-tuning a backbone with a new head.

``_estimators`` (FineTuneClassifier, FineTuneRegressor) over ``_base`` (the
fit flow) and ``_predict`` (prediction, pickling); ``_params`` writes the
parameters' documentation once; ``_net`` builds the network (a head on a
training copy of the backbone); ``_blocks`` groups the backbone's parameters
into blocks and learning-rate groups; ``_data`` serves training batches;
``_augment`` augments them; ``_training`` is the one training loop (the step
loop and the epoch loop), which later estimators reuse with losses of their
own. This wing imports from ``_backbones``, ``_extraction`` and the shared
``_torch`` and ``_runtime``.
"""
