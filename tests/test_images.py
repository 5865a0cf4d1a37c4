"""Tests of vaelib.data.images: digits split, idx reading, torchvision and Debian layouts."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.datasets import load_digits

from vaelib.data.images import IDX_SEARCH_PATHS, ImageDataset, load_images, read_idx

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
TYPE_CODES = {  # the idx format's type codes (LeCun's MNIST page)
    np.dtype("u1"): 0x08, np.dtype("i1"): 0x09, np.dtype("i2"): 0x0B,
    np.dtype("i4"): 0x0C, np.dtype("f4"): 0x0D, np.dtype("f8"): 0x0E,
}


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write ``array`` in idx format (gzipped when the name ends in .gz), from the format spec."""
    header = bytes([0, 0, TYPE_CODES[array.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload) if path.suffix == ".gz" else payload)


def tiny_split(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    return images, rng.integers(0, 10, size=n, dtype=np.uint8)


def write_mnist_folder(folder: Path, *, gz: bool, seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Idx files of a tiny MNIST look-alike (train 5 images, test 3) in ``folder``."""
    suffix = ".gz" if gz else ""
    splits = {"train": tiny_split(seed, 5), "t10k": tiny_split(seed + 1, 3)}
    for prefix, (images, labels) in splits.items():
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
    return {"train": splits["train"], "test": splits["t10k"]}


def assert_matches(dataset: ImageDataset, images: np.ndarray, labels: np.ndarray) -> None:
    assert dataset.x.dtype == torch.float32 and dataset.y.dtype == torch.int64
    assert dataset.image_shape == (1, 28, 28) and len(dataset) == len(labels)
    np.testing.assert_allclose(dataset.x[:, 0].numpy(), images / 255.0, rtol=0, atol=1e-7)
    np.testing.assert_array_equal(dataset.y.numpy(), labels)


# --- idx reader -------------------------------------------------------------------------------

def test_read_idx_hand_written_bytes(tmp_path: Path) -> None:
    ubyte = tmp_path / "u.idx"
    ubyte.write_bytes(b"\x00\x00\x08\x02" + b"\x00\x00\x00\x02\x00\x00\x00\x03" + bytes([1, 2, 3, 4, 5, 255]))
    np.testing.assert_array_equal(read_idx(ubyte), np.array([[1, 2, 3], [4, 5, 255]], dtype=np.uint8))
    int32 = tmp_path / "i.idx.gz"
    int32.write_bytes(gzip.compress(b"\x00\x00\x0c\x01\x00\x00\x00\x02" + b"\xff\xff\xff\xff\x00\x00\x01\x02"))
    values = read_idx(int32)
    np.testing.assert_array_equal(values, np.array([-1, 258], dtype=np.int32))
    assert values.dtype.isnative


@settings(max_examples=30, deadline=None)
@given(
    hnp.arrays(
        dtype=st.sampled_from(sorted(TYPE_CODES, key=str)),
        shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4),
        elements={"allow_nan": False},
    ),
    st.booleans(),
)
def test_read_idx_round_trips_every_type(tmp_path_factory: pytest.TempPathFactory, array: np.ndarray, gz: bool) -> None:
    path = tmp_path_factory.mktemp("idx") / ("a.idx.gz" if gz else "a.idx")
    write_idx(path, array)
    result = read_idx(path)
    assert result.dtype == array.dtype and result.shape == array.shape
    np.testing.assert_array_equal(result, array)


def test_read_idx_rejects_non_idx_and_truncated_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x1f\x8b\x08\x00junk")
    with pytest.raises(ValueError, match=r"is not an idx file: it starts with b'\\x1f\\x8b"):
        read_idx(bad)
    short = tmp_path / "short"
    short.write_bytes(b"\x00\x00\x08\x03\x00\x00\x00\x02")
    with pytest.raises(ValueError, match="header is cut short"):
        read_idx(short)
    truncated = tmp_path / "truncated"
    truncated.write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x04" + bytes(3))
    with pytest.raises(ValueError, match=r"has 11 bytes, its header \(4,\) promises 12"):
        read_idx(truncated)


# --- digits -----------------------------------------------------------------------------------

def test_digits_shapes_values_and_labels() -> None:
    train, test = load_images("digits"), load_images("digits", split="test")
    assert (len(train), len(test)) == (1437, 360)  # 1,797 digits, ceil(0.2 * 1797) = 360 held out
    for part in (train, test):
        assert part.name == "digits" and part.classes == tuple("0123456789")
        assert part.image_shape == (1, 8, 8)
        assert part.x.dtype == torch.float32 and part.y.dtype == torch.int64
        assert float(part.x.min()) == 0.0 and float(part.x.max()) == 1.0
        torch.testing.assert_close(part.x * 16, (part.x * 16).round(), rtol=0, atol=1e-5)  # 17 grey levels
        assert set(part.y.tolist()) == set(range(10))


def test_digits_split_is_a_stratified_partition() -> None:
    digits = load_digits()
    train, test = load_images("digits", seed=3), load_images("digits", split="test", seed=3)
    rows = np.concatenate([train.x.reshape(-1, 64).numpy(), test.x.reshape(-1, 64).numpy()]) * 16
    labels = np.concatenate([train.y.numpy(), test.y.numpy()])
    order, expected_order = np.lexsort(rows.T), np.lexsort(digits.data.T)
    # Digits has no duplicate images, so equal sorted rows means every image sits in exactly one split.
    assert len(np.unique(digits.data, axis=0)) == len(digits.data)
    np.testing.assert_allclose(rows[order], digits.data[expected_order], atol=1e-4)
    np.testing.assert_array_equal(labels[order], digits.target[expected_order])
    class_sizes = np.bincount(digits.target)
    assert np.all(np.abs(np.bincount(test.y.numpy(), minlength=10) - 0.2 * class_sizes) <= 1)


def test_digits_split_reproducible_by_seed_and_fraction() -> None:
    first, again = load_images("digits", split="test", seed=7), load_images("digits", split="test", seed=7)
    other = load_images("digits", split="test", seed=8)
    assert torch.equal(first.x, again.x) and torch.equal(first.y, again.y)
    assert not torch.equal(first.x, other.x)
    assert len(load_images("digits", split="test", test_fraction=0.5)) == 899  # ceil(0.5 * 1797)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"name": "cifar10"}, ValueError, r"name must be one of \('digits', 'mnist', 'fashion-mnist'\), got 'cifar10'"),
        ({"name": 3}, TypeError, "name must be a str, got 3"),
        ({"name": "digits", "split": "val"}, ValueError, r"split must be one of \('train', 'test'\), got 'val'"),
        ({"name": "digits", "seed": 1.5}, TypeError, "seed must be an int, got 1.5"),
        ({"name": "digits", "download": "yes"}, TypeError, "download must be a bool, got 'yes'"),
        ({"name": "digits", "root": 3}, TypeError, "root must be a str or path .*, got 3"),
        ({"name": "mnist", "search_paths": "/tmp"}, TypeError, "search_paths must be a sequence of paths, got '/tmp'"),
        ({"name": "mnist", "search_paths": [1]}, TypeError, r"search_paths must be a sequence of paths, got \[1\]"),
        ({"name": "digits", "test_fraction": True}, TypeError, "test_fraction must be a float, got True"),
        ({"name": "digits", "test_fraction": 0.0}, ValueError, "test_fraction must .* got 0.0"),
        ({"name": "digits", "test_fraction": 1.5}, ValueError, "test_fraction must .* got 1.5"),
        ({"name": "digits", "test_fraction": float("nan")}, ValueError, "test_fraction must .* got nan"),
        ({"name": "digits", "test_fraction": 0.004}, ValueError, r"lie in \[0.0056, 0.9944\], got 0.004"),
        ({"name": "mnist", "test_fraction": 0.2}, ValueError, "test_fraction applies to 'digits' only .* got 0.2"),
    ],
)
def test_load_images_rejects_bad_arguments(kwargs: dict, error: type, message: str) -> None:
    name = kwargs.pop("name")
    with pytest.raises(error, match=message):
        load_images(name, **kwargs)


# --- MNIST-type datasets from idx files ---------------------------------------------------------

@pytest.mark.parametrize(("name", "folder"), [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_torchvision_raw_layout_under_root(tmp_path: Path, name: str, folder: str) -> None:
    expected = write_mnist_folder(tmp_path / folder / "raw", gz=False)
    for split in ("train", "test"):
        dataset = load_images(name, split=split, root=tmp_path, search_paths=[])
        assert_matches(dataset, *expected[split])
        assert dataset.name == name
    classes = FASHION_CLASSES if name == "fashion-mnist" else tuple("0123456789")
    assert load_images(name, root=tmp_path).classes == classes


@pytest.mark.parametrize("gz", [True, False])
def test_debian_layout_from_search_paths(tmp_path: Path, gz: bool) -> None:
    expected = write_mnist_folder(tmp_path / "datasets" / "fashion-mnist", gz=gz)
    places = [tmp_path / "missing", str(tmp_path / "datasets" / "fashion-mnist")]
    for split in ("train", "test"):
        dataset = load_images("fashion-mnist", split=split, root=tmp_path / "empty", search_paths=places)
        assert_matches(dataset, *expected[split])
        assert dataset.classes == FASHION_CLASSES


def test_lookup_order_is_root_then_search_paths_in_order(tmp_path: Path) -> None:
    from_root = write_mnist_folder(tmp_path / "root" / "MNIST" / "raw", gz=False, seed=10)
    from_first = write_mnist_folder(tmp_path / "first", gz=True, seed=20)
    write_mnist_folder(tmp_path / "second", gz=False, seed=30)
    places = [tmp_path / "first", tmp_path / "second"]
    assert_matches(load_images("mnist", root=tmp_path / "root", search_paths=places), *from_root["train"])
    assert_matches(load_images("mnist", root=tmp_path / "elsewhere", search_paths=places), *from_first["train"])


def test_mismatched_idx_files_are_rejected(tmp_path: Path) -> None:
    folder = tmp_path / "debian"
    write_idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros((3, 28, 28), dtype=np.uint8))
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(4, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"idx files do not match: .* holds \(3, 28, 28\) .* holds \(4,\)"):
        load_images("mnist", split="test", root=tmp_path, search_paths=[folder])


def test_missing_data_error_names_every_place_and_remedy(tmp_path: Path) -> None:
    half = tmp_path / "half"  # holds the images but not the labels: not a usable folder
    write_idx(half / "train-images-idx3-ubyte.gz", np.zeros((2, 28, 28), dtype=np.uint8))
    places = [tmp_path / "nowhere", half]
    with pytest.raises(FileNotFoundError) as info:
        load_images("fashion-mnist", root=tmp_path / "root", search_paths=places)
    message = str(info.value)
    for place in (tmp_path / "root" / "FashionMNIST" / "raw", *places):
        assert str(place) in message
    assert "train-labels-idx1-ubyte[.gz]" in message
    assert "download=True" in message and "dataset-fashion-mnist" in message
    with pytest.raises(FileNotFoundError) as info:
        load_images("mnist", split="test", root=tmp_path / "root", search_paths=[])
    assert str(tmp_path / "root" / "MNIST" / "raw") in str(info.value) and "download=True" in str(info.value)
    assert "dataset-fashion-mnist" not in str(info.value)


def test_default_search_paths_point_at_debian_package() -> None:
    assert IDX_SEARCH_PATHS["fashion-mnist"] == (DEBIAN_FASHION,)
    assert IDX_SEARCH_PATHS["mnist"] == ()


def test_download_only_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from torchvision import datasets

    calls = []

    def fake_download(self: datasets.MNIST) -> None:  # stands in for the network
        calls.append(self.raw_folder)
        write_mnist_folder(Path(self.raw_folder), gz=False, seed=5)

    monkeypatch.setattr(datasets.MNIST, "download", fake_download)
    with pytest.raises(FileNotFoundError):
        load_images("mnist", root=tmp_path, search_paths=[])
    assert calls == []
    dataset = load_images("mnist", split="test", root=tmp_path, download=True, search_paths=[])
    assert calls == [str(tmp_path / "MNIST" / "raw")]
    assert_matches(dataset, *tiny_split(6, 3))


@pytest.mark.skipif(
    not DEBIAN_FASHION.is_dir(), reason=f"{DEBIAN_FASHION} absent (apt-get install dataset-fashion-mnist)"
)
def test_real_debian_fashion_mnist(tmp_path: Path) -> None:
    for split, size in (("train", 60_000), ("test", 10_000)):
        dataset = load_images("fashion-mnist", split=split, root=tmp_path)
        assert len(dataset) == size and dataset.image_shape == (1, 28, 28)
        assert float(dataset.x.min()) == 0.0 and float(dataset.x.max()) == 1.0
        # Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class (Xiao et al. 2017).
        assert dataset.y.bincount().tolist() == [size // 10] * 10
        assert dataset.classes == FASHION_CLASSES


# --- ImageDataset -------------------------------------------------------------------------------

def test_image_dataset_len_and_shape() -> None:
    dataset = ImageDataset(torch.rand(4, 3, 5, 6), torch.tensor([0, 1, 1, 0]), "toy", ("a", "b"))
    assert len(dataset) == 4 and dataset.image_shape == (3, 5, 6)


@pytest.mark.parametrize(
    ("x", "y", "error", "message"),
    [
        (torch.rand(2, 1, 3, 3).double(), torch.tensor([0, 1]), TypeError, "x must be a float32 torch.Tensor of shape"),
        (torch.rand(2, 3, 3), torch.tensor([0, 1]), TypeError, "x must be a float32 torch.Tensor of shape"),
        (torch.rand(2, 1, 3, 3), torch.tensor([0.0, 1.0]), TypeError, "y must be an int64 torch.Tensor"),
        (torch.rand(2, 1, 3, 3), torch.tensor([0, 1, 1]), ValueError, r"y must have one label per image \(2\), got 3"),
        (
            torch.rand(2, 1, 3, 3), torch.tensor([0, 2]), ValueError,
            r"y must lie in \[0, 2\) for 2 classes, got values in \[0, 2\]",
        ),
        (
            torch.full((2, 1, 3, 3), 255.0), torch.tensor([0, 1]), ValueError,
            r"x must lie in \[0, 1\], got values in \[255.0, 255.0\]",
        ),
    ],
)
def test_image_dataset_rejects_bad_fields(x: torch.Tensor, y: torch.Tensor, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        ImageDataset(x, y, "toy", ("a", "b"))


def test_data_home_prefers_the_environment_then_the_checkout_then_the_cache(monkeypatch, tmp_path):
    from vaelib.data import images

    monkeypatch.setenv("VAELIB_DATA", str(tmp_path / "mine"))
    assert images.data_home() == tmp_path / "mine"
    monkeypatch.delenv("VAELIB_DATA")
    checkout = Path(images.__file__).resolve().parents[2]
    assert images.data_home() == checkout / "data"  # this test runs from a source checkout
    # an installed copy (no pyproject.toml beside the package): the user's cache, not site-packages
    site = tmp_path / "site-packages" / "vaelib" / "data"
    site.mkdir(parents=True)
    monkeypatch.setattr(images, "__file__", str(site / "images.py"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert images.data_home() == tmp_path / "cache" / "vaelib"
