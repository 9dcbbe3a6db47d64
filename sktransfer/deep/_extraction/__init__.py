"""Second wing of ``sktransfer.deep``: frozen backbones as feature extractors.

``_extractor`` (the :class:`DeepFeatureExtractor` template), the image and
text extractors, what they read (``_images``, ``_image_loader``) and the
per-item embedding cache (``_cache``). ``_inputs`` is the wing's input
protocol: an :class:`InputReader` checks, batches and prepares one kind of
input for a backbone; the extractors read only through one, and fine-tuning
takes the reader of its fitted extractor (``input_reader``) instead of
calling the extractors' private methods. This wing imports from
``_backbones`` and the shared ``_torch`` and ``_runtime``, never from
``_finetune``.
"""
