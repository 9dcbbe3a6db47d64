"""First wing of ``sktransfer.deep``: backbones, from a spec to a loaded, frozen model.

``_base`` (:class:`Backbone`, :class:`ImageConfig`, the offline-weights error)
and ``_files`` (which specs are paths, safe loading of weight and model files)
are what the adapters build on; ``_image`` and ``_text`` are the adapters;
``_registry`` resolves a spec through them and caches the result. ``_pooling``
and ``_stop`` read a layer's output. Dependencies run one way (base, files <-
adapters <- registry), and this wing imports nothing from the later wings
(``_extraction``, ``_finetune``), only from the shared ``_torch`` and
``_runtime``.
"""
