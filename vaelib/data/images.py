"""Offline image datasets: scikit-learn's digits, MNIST and Fashion-MNIST.

* ``"digits"``: the 1,797 8x8 handwritten digits bundled with scikit-learn (Alpaydin & Kaynak
  1998, UCI "Optical Recognition of Handwritten Digits", test part), always available offline.
  It has no official split; :func:`load_images` makes a stratified one fixed by ``seed``.
* ``"mnist"`` (LeCun et al. 1998) and ``"fashion-mnist"`` (Xiao, Rasul & Vollgraf 2017), 28x28
  with the official 60,000 / 10,000 train / test split, read from idx files: first through
  torchvision's dataset classes under ``root`` (``root/MNIST/raw`` or ``root/FashionMNIST/raw``,
  downloaded there only when ``download=True``), else from the folders in
  ``IDX_SEARCH_PATHS`` (Debian's ``dataset-fashion-mnist`` package installs gzipped idx files in
  ``/usr/share/datasets/fashion-mnist``).

Images are float32 in [0, 1] of shape (N, 1, H, W); labels are int64 class indices.
"""
from __future__ import annotations

import gzip
import math
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vaelib.validation import is_integer, is_real

IMAGE_DATASETS: tuple[str, ...] = ("digits", "mnist", "fashion-mnist")
SPLITS: tuple[str, ...] = ("train", "test")
DIGITS_TEST_FRACTION: float = 0.2
"""Default share of each digit class held out as the "test" split of ``"digits"``."""
IDX_SEARCH_PATHS: dict[str, tuple[Path, ...]] = {
    "mnist": (),
    "fashion-mnist": (Path("/usr/share/datasets/fashion-mnist"),),
}
"""Folders searched for idx files (plain or ``.gz``) when torchvision's ``root`` has none."""
CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "digits": tuple("0123456789"),
    "mnist": tuple("0123456789"),
    "fashion-mnist": (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ),
}
IDX_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
"""Image and label file names of each split, as published (and as torchvision keeps them)."""

# idx type codes (LeCun's MNIST page): the data are big-endian.
_IDX_DTYPES: dict[int, str] = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """Images with class labels.

    Attributes
    ----------
    x : torch.Tensor
        float32, shape (N, C, H, W), values in [0, 1].
    y : torch.Tensor
        int64, shape (N,), class indices into ``classes``.
    name : str
        Dataset name, e.g. ``"digits"``.
    classes : tuple of str
        Class names, index = label.
    """

    x: torch.Tensor
    y: torch.Tensor
    name: str
    classes: tuple[str, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.x, torch.Tensor) or self.x.dtype != torch.float32 or self.x.ndim != 4:
            raise TypeError(f"x must be a float32 torch.Tensor of shape (N, C, H, W), got {self.x!r:.80}")
        if not isinstance(self.y, torch.Tensor) or self.y.dtype != torch.int64 or self.y.ndim != 1:
            raise TypeError(f"y must be an int64 torch.Tensor of shape (N,), got {self.y!r:.80}")
        if self.y.shape[0] != self.x.shape[0]:
            raise ValueError(f"y must have one label per image ({self.x.shape[0]}), got {self.y.shape[0]}")
        if self.x.numel():
            low, high = torch.aminmax(self.x)
            if not 0 <= low <= high <= 1:
                raise ValueError(f"x must lie in [0, 1], got values in [{float(low)}, {float(high)}]")
        if self.y.numel() and (self.y.min() < 0 or self.y.max() >= len(self.classes)):
            raise ValueError(
                f"y must lie in [0, {len(self.classes)}) for {len(self.classes)} classes, "
                f"got values in [{int(self.y.min())}, {int(self.y.max())}]"
            )

    def __len__(self) -> int:
        return self.x.shape[0]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return tuple(self.x.shape[1:])


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an idx file (LeCun's MNIST format), gzipped when its name ends in ``.gz``.

    The file holds two zero bytes, a type code, the number of dimensions, each dimension as a
    big-endian uint32, then the values in C order.

    Returns
    -------
    numpy.ndarray
        The array in native byte order, of the file's type and shape.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as file:
        data = file.read()
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] not in _IDX_DTYPES:
        raise ValueError(f"{str(path)!r} is not an idx file: it starts with {data[:4]!r}")
    header = 4 + 4 * data[3]
    if len(data) < header:
        raise ValueError(f"{str(path)!r} is not an idx file: its header is cut short ({len(data)} bytes)")
    shape = struct.unpack(f">{data[3]}I", data[4:header])
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    expected = header + math.prod(shape) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f"{str(path)!r} has {len(data)} bytes, its header {shape} promises {expected}")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _dataset(name: str, images: np.ndarray, labels: np.ndarray, top: float) -> ImageDataset:
    """Images (N, H, W) with values in [0, top] and labels (N,) as an :class:`ImageDataset`."""
    x = torch.as_tensor(np.asarray(images, dtype=np.float32) / np.float32(top))[:, None]
    return ImageDataset(x, torch.as_tensor(np.asarray(labels, dtype=np.int64)), name, CLASS_NAMES[name])


def _load_digits(split: str, seed: int, test_fraction: float) -> ImageDataset:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    n, n_classes = len(digits.target), len(CLASS_NAMES["digits"])
    if not 0 < test_fraction < 1 or not n_classes <= math.ceil(test_fraction * n) <= n - n_classes:
        raise ValueError(
            f"test_fraction must leave every one of the {n_classes} classes in both splits of the "
            f"{n} digits, i.e. lie in [{n_classes / n:.4f}, {1 - n_classes / n:.4f}], got {test_fraction!r}"
        )
    parts = train_test_split(
        digits.images, digits.target, test_size=test_fraction, random_state=seed, stratify=digits.target
    )
    images, labels = (parts[0], parts[2]) if split == "train" else (parts[1], parts[3])
    return _dataset("digits", images, labels, 16.0)


def _idx_pair(folder: Path, split: str) -> tuple[Path, Path] | None:
    """The split's image and label files in ``folder`` (plain or ``.gz``), or None if missing."""
    found = []
    for stem in IDX_FILES[split]:
        candidates = [folder / stem, folder / f"{stem}.gz"]
        match = next((candidate for candidate in candidates if candidate.is_file()), None)
        if match is None:
            return None
        found.append(match)
    return found[0], found[1]


def _load_idx_files(name: str, image_file: Path, label_file: Path) -> ImageDataset:
    images, labels = read_idx(image_file), read_idx(label_file)
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"idx files do not match: {str(image_file)!r} holds {images.shape} (want (N, H, W)), "
            f"{str(label_file)!r} holds {labels.shape} (want (N,))"
        )
    return _dataset(name, images, labels, 255.0)


def _load_idx_dataset(
    name: str, split: str, root: Path, download: bool, search_paths: Sequence[Path]
) -> ImageDataset:
    """MNIST or Fashion-MNIST from torchvision's ``root``, else ``search_paths``, else a download."""
    from torchvision import datasets

    dataset_class = datasets.MNIST if name == "mnist" else datasets.FashionMNIST
    train = split == "train"
    raw_folder = root / dataset_class.__name__ / "raw"
    try:
        found = dataset_class(root, train=train, download=False)
    except RuntimeError:  # torchvision's "Dataset not found"
        for folder in search_paths:
            files = _idx_pair(folder, split)
            if files is not None:
                return _load_idx_files(name, *files)
        if not download:
            files = " and ".join(f"{stem}[.gz]" for stem in IDX_FILES[split])
            looked = "".join(
                [f"\n  - {raw_folder.absolute()} (torchvision's layout: the four idx files, uncompressed)"]
                + [f"\n  - {folder.absolute()} ({files})" for folder in search_paths]
            )
            debian = (
                " or install Debian's package 'dataset-fashion-mnist' (apt-get install dataset-fashion-mnist),"
                if name == "fashion-mnist"
                else ""
            )
            raise FileNotFoundError(
                f"{name} ({split} split) not found. Looked in:{looked}\n"
                f"Get it with load_images({name!r}, download=True) (needs internet; saves to "
                f"{str(raw_folder.absolute())!r}),{debian} or pass search_paths= with a folder holding the idx files."
            ) from None
        found = dataset_class(root, train=train, download=True)
    return _dataset(name, found.data.numpy(), found.targets.numpy(), 255.0)


def data_home() -> Path:
    """Where MNIST and Fashion-MNIST files are looked for (and downloaded to) by default.

    ``$VAELIB_DATA`` when set; else the ``data/`` folder of the source checkout vaelib runs from
    (``make``, ``pip install -e``); else ``$XDG_CACHE_HOME/vaelib`` (``~/.cache/vaelib``), which is
    what a ``pip install`` (Colab, a virtual environment) gets, never a folder inside site-packages.
    """
    if os.environ.get("VAELIB_DATA"):
        return Path(os.environ["VAELIB_DATA"]).expanduser()
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "data").is_dir():
        return checkout / "data"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "vaelib"


def load_images(
    name: str,
    *,
    split: str = "train",
    root: str | os.PathLike[str] | None = None,
    download: bool = False,
    seed: int = 0,
    test_fraction: float | None = None,
    search_paths: Sequence[str | os.PathLike[str]] | None = None,
) -> ImageDataset:
    """Load an image dataset, offline unless ``download=True``.

    Parameters
    ----------
    name : str
        One of ``IMAGE_DATASETS``: ``"digits"`` (1,797 images, 1x8x8), ``"mnist"`` or
        ``"fashion-mnist"`` (60,000 train and 10,000 test images, 1x28x28).
    split : str
        ``"train"`` or ``"test"``.
    root : str or path, optional
        torchvision's dataset folder for MNIST and Fashion-MNIST (files in
        ``root/MNIST/raw`` or ``root/FashionMNIST/raw``). Default: :func:`data_home`.
    download : bool
        Let torchvision download MNIST / Fashion-MNIST into ``root`` when neither ``root`` nor
        ``search_paths`` has them (needs internet). Never happens by default.
    seed : int
        Seed of the stratified random split of ``"digits"`` (unused by the other datasets, whose
        split is official).
    test_fraction : float, optional
        ``"digits"`` only: share of each class in the test split (default
        ``DIGITS_TEST_FRACTION`` = 0.2: 1,437 train and 360 test images).
    search_paths : sequence of paths, optional
        Folders holding the idx files (plain or gzipped) of MNIST / Fashion-MNIST, tried in
        order after ``root``. Default: ``IDX_SEARCH_PATHS[name]``.

    Returns
    -------
    ImageDataset
        Images float32 (N, 1, H, W) in [0, 1] (digits: values / 16; MNIST types: / 255), labels
        int64 (N,).

    Raises
    ------
    FileNotFoundError
        When MNIST / Fashion-MNIST is in none of the places looked at and ``download`` is False;
        the message lists the places and the ways to get the data.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {name!r}")
    if name not in IMAGE_DATASETS:
        raise ValueError(f"name must be one of {IMAGE_DATASETS}, got {name!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if root is None:
        root = data_home()
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a str or path (or None for data_home()), got {root!r}")
    if not isinstance(download, bool):
        raise TypeError(f"download must be a bool, got {download!r}")
    if not is_integer(seed):
        raise TypeError(f"seed must be an int, got {seed!r}")
    if search_paths is None:
        search_paths = IDX_SEARCH_PATHS.get(name, ())
    elif isinstance(search_paths, (str, os.PathLike)) or not all(
        isinstance(place, (str, os.PathLike)) for place in search_paths
    ):
        raise TypeError(f"search_paths must be a sequence of paths, got {search_paths!r}")
    if name == "digits":
        if test_fraction is None:
            test_fraction = DIGITS_TEST_FRACTION
        if not is_real(test_fraction):
            raise TypeError(f"test_fraction must be a float, got {test_fraction!r}")
        return _load_digits(split, int(seed), float(test_fraction))
    if test_fraction is not None:
        raise ValueError(
            f"test_fraction applies to 'digits' only ({name!r} has an official split), got {test_fraction!r}"
        )
    return _load_idx_dataset(name, split, Path(root), download, [Path(place) for place in search_paths])
