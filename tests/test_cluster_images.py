"""The folder loader: mixed formats, corrupt files, labels from sub-folders, clean errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mitool.cluster.images import load_folder
from mitool.errors import InputError, UsageError


def _write(path, mode="L", size=(8, 8), value=128):
    path.parent.mkdir(parents=True, exist_ok=True)
    colour = value if mode in ("L", "1") else (value, 0, 255 - value)
    Image.new(mode, size, colour).save(path)


@pytest.fixture
def mixed(tmp_path):
    """Two classes, five formats, one corrupt PNG, one empty JPEG and a text file."""
    _write(tmp_path / "cats" / "a.png", value=0)
    _write(tmp_path / "cats" / "b.jpg", value=50)
    _write(tmp_path / "cats" / "c.bmp", value=100)
    _write(tmp_path / "dogs" / "d.gif", value=150)
    _write(tmp_path / "dogs" / "e.tiff", size=(16, 12), value=200)
    _write(tmp_path / "dogs" / "nested" / "f.webp", value=250)
    (tmp_path / "dogs" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    (tmp_path / "cats" / "empty.jpg").write_bytes(b"")
    (tmp_path / "dogs" / "notes.txt").write_text("not an image")
    return tmp_path


def test_mixed_formats_and_corrupt_files(mixed):
    data = load_folder(mixed)
    assert len(data.paths) == 6
    assert data.n_skipped == 2
    assert sorted(p.rsplit("/", 1)[-1] for p in data.skipped) == ["broken.png", "empty.jpg"]
    assert data.channels == 1  # every readable image is grayscale
    assert data.image_size == 8  # median of the longer sides (8, 8, 8, 8, 16, 8)
    assert data.images.shape == (6, 1, 8, 8) and data.images.dtype == np.uint8
    assert data.label_names == ["cats", "dogs"]
    assert data.labels.tolist() == [0, 0, 0, 1, 1, 1]  # nested/f.webp is still a dog
    means = data.images.mean(axis=(1, 2, 3))
    assert means[0] == pytest.approx(0.0) and means[2] == pytest.approx(100, abs=1e-6)


def test_explicit_size_and_colour(mixed):
    data = load_folder(mixed, channels=3, image_size=5)
    assert data.images.shape == (6, 3, 5, 5)
    assert data.image_size == 5 and data.channels == 3


def test_colour_detected_and_no_labels_without_subfolders(tmp_path):
    _write(tmp_path / "x.png", mode="RGB", value=10)
    _write(tmp_path / "y.png", mode="L", value=20)
    data = load_folder(tmp_path)
    assert data.channels == 3 and data.images.shape == (2, 3, 8, 8)
    assert data.labels is None and data.label_names is None


def test_transparent_pixels_become_white(tmp_path):
    Image.new("RGBA", (4, 4), (0, 0, 0, 0)).save(tmp_path / "clear.png")
    data = load_folder(tmp_path)
    assert data.images.min() == 255


def test_one_subfolder_is_not_a_labelling(tmp_path):
    _write(tmp_path / "only" / "a.png")
    _write(tmp_path / "only" / "b.png")
    assert load_folder(tmp_path).labels is None


def test_empty_folder(tmp_path):
    with pytest.raises(InputError, match="is empty"):
        load_folder(tmp_path)


def test_folder_without_images(tmp_path):
    (tmp_path / "readme.txt").write_text("hello")
    with pytest.raises(InputError, match="no images found"):
        load_folder(tmp_path)


def test_only_corrupt_images(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"garbage")
    with pytest.raises(InputError, match="could be read"):
        load_folder(tmp_path)


def test_missing_folder_and_bad_options(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_folder(tmp_path / "nope")
    _write(tmp_path / "a.png")
    with pytest.raises(InputError, match="not a folder"):
        load_folder(tmp_path / "a.png")
    with pytest.raises(UsageError, match=r"ImageOptions\(channels=\.\.\.\) must be 1 or 3"):
        load_folder(tmp_path, channels=2)
    with pytest.raises(UsageError, match=r"ImageOptions\(image_size=\.\.\.\)") as err:
        load_folder(tmp_path, image_size=1)
    assert err.value.for_flag("--image-size").startswith("--image-size must be between")


def test_images_stay_uint8_one_byte_per_pixel(tmp_path):
    """The memory layout: (N, C, S, S) uint8, so 100,000 colour 64x64 images take 1.2 GB."""
    rng = np.random.default_rng(0)
    for i in range(5):
        Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    data = load_folder(tmp_path, image_size=16)
    assert data.images.dtype == np.uint8 and data.images.shape == (5, 3, 16, 16)
    assert data.images.nbytes == 5 * 3 * 16 * 16
    assert data.images.flags.c_contiguous
    gray = load_folder(tmp_path, channels=1, image_size=16)
    assert gray.images.dtype == np.uint8 and gray.images.shape == (5, 1, 16, 16)


def test_luma_matches_pillow_for_gray_files(tmp_path):
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (9, 9, 3), dtype=np.uint8)
    Image.fromarray(rgb).convert("L").convert("RGB").save(tmp_path / "c.png")
    expected = np.asarray(Image.fromarray(rgb).convert("L"))
    got = load_folder(tmp_path, channels=1).images[0, 0]
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1


def test_one_channel_keeps_a_shape_that_luma_would_erase():
    """A blue square on an olive ground: nearly equal luma, full contrast on the colour axis."""
    from mitool.cluster.images import colour_axis

    rgb = np.zeros((12, 12, 3), dtype=np.uint8)
    rgb[:] = (70, 70, 0)  # olive, luma 62
    rgb[3:9, 3:9] = (40, 40, 250)  # blue, luma 64
    luma = np.asarray(Image.fromarray(rgb).convert("L")).astype(int)
    assert luma.max() - luma.min() <= 3
    axis = colour_axis(rgb).astype(int)
    assert axis.max() - axis.min() == 255
    assert len(np.unique(axis[3:9, 3:9])) == 1 and axis[0, 0] != axis[5, 5]


def test_working_size_follows_the_content_not_the_file_size(tmp_path):
    """A smooth blob saved at 48 px needs far fewer pixels than fine stripes saved at 48 px."""
    from mitool.cluster.images import choose_image_size, detail_loss

    yy, xx = np.mgrid[0:48, 0:48] / 48.0
    blob = (np.exp(-((xx - 0.5) ** 2 + (yy - 0.5) ** 2) / 0.05) * 255).astype(np.uint8)
    stripes = ((np.sin(2 * np.pi * 12 * xx) > 0) * 255).astype(np.uint8)
    assert detail_loss(blob[None], 8) < 0.05 < detail_loss(stripes[None], 8)
    assert choose_image_size(blob[None]) <= 12
    assert choose_image_size(stripes[None]) >= 32
    for name, img in (("blob", blob), ("stripes", stripes)):
        folder = tmp_path / name
        folder.mkdir()
        for i in range(3):
            Image.fromarray(img).save(folder / f"{i}.png")
    assert load_folder(tmp_path / "blob").image_size < load_folder(tmp_path / "stripes").image_size


def test_mixed_sizes_are_said_with_counts_before_resizing(mixed):
    said = []
    data = load_folder(mixed, image_size=8, framing="full",
                       progress=lambda done, total, f: said.append(f.get("message")))
    note = ("images of 2 sizes: 8x8 (5), 16x12 (1); each is resized to 8x8, so the images "
            "that are not square (1 of 6, up to 1.33:1) are stretched; crop or pad them to "
            "one shape to keep their proportions")
    assert data.notes == [note]
    assert said[0] == note  # the first thing reported, before any image is decoded


def test_one_size_says_nothing(tmp_path):
    for i in range(4):
        _write(tmp_path / f"{i}.png", size=(10, 6), value=40 * i)
    said = []
    data = load_folder(tmp_path, progress=lambda done, total, f: said.append(f))
    assert data.notes == [] and not any("message" in f for f in said)
