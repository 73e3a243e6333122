"""Model files: the trained network's weights plus plain metadata, never pickled objects.

``save_model`` writes atomically; ``load_model`` reads with ``torch.load(weights_only=True)``
and checks the structure, so any other file (text, empty, another torch file, an incomplete
one) is an InputError (exit 2) naming the path.
"""

from __future__ import annotations

import os
from typing import Any

from mitool.cluster.model import ModelSpec
from mitool.cluster.result import ClusterResult
from mitool.errors import InputError, UsageError

MODEL_FORMAT = "mitool-iic-model"
MODEL_FORMAT_VERSION = 2  # 2: uint8 inputs, stem_stride and head in the spec (1 still loads)


def save_model(result: ClusterResult, path: str | os.PathLike[str]) -> None:
    """Write the trained model (state dict + plain metadata) atomically; loads with weights_only."""
    import torch

    from mitool import __version__
    from mitool.atomic import atomic_path

    if result.model_state is None:
        raise UsageError("this result holds no trained model to save")
    payload = {"format": MODEL_FORMAT, "format_version": MODEL_FORMAT_VERSION,
               "mitool_version": __version__, "label_names": result.label_names,
               **result.model_state}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_model(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a ``save_model`` file safely (``weights_only=True``: no arbitrary objects)."""
    import torch

    if not os.path.exists(path):
        raise InputError(f"model file '{path}' does not exist")
    if not os.path.isfile(path):
        raise InputError(f"model file '{path}' is not a file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - text, empty, zip or pickle junk all raise differently
        raise InputError(f"'{path}' is not a mitool cluster model ({_what_it_is(path)}); "
                         "pass a file written by --save-model") from None
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise InputError(f"'{path}' is not a mitool cluster model (a PyTorch file of something "
                         "else); pass a file written by --save-model")
    try:
        version = int(payload.get("format_version", 0))
        ModelSpec.from_dict(payload["spec"])
        int(payload["chosen_subhead"])
        if not isinstance(payload["state_dict"], dict):
            raise TypeError("state_dict is not a dict")
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"'{path}' is not a mitool cluster model (incomplete: {exc!r})") from None
    if version > MODEL_FORMAT_VERSION:
        raise InputError(f"'{path}' was saved by a newer mitool; upgrade to load it")
    return payload


def _what_it_is(path: str | os.PathLike[str]) -> str:
    """What a file that torch could not load looks like, in words (PyTorch's own message
    is about its unpickler, which a user did not ask about)."""
    with open(path, "rb") as fh:
        head = fh.read(512)
    if not head:
        return "the file is empty"
    if head.startswith(b"PK\x03\x04"):
        return "a zip or PyTorch file holding objects other than a saved model"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "not a PyTorch file"
    first = text.splitlines()[0][:40] if text.strip() else ""
    return f"a text file, starting {first!r}" if first else "a text file"
