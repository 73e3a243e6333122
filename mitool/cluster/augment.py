"""Random perturbations g for the pairs (x, gx): whole batches, per-sample parameters, on device.

Plain torch (affine_grid / grid_sample): a random affine map (rotation, scale, translation,
optional horizontal flip) then brightness/contrast jitter and Gaussian noise. No host syncs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import torch


DEFAULT_ROTATION = 15.0  # degrees, where the images share an edge direction
NUISANCE_ROTATION = 180.0  # where they share none: rotate all round


@dataclass(frozen=True)
class AugmentConfig:
    """Strength of each perturbation. Too strong hurts (see docs/benchmarks.md)."""

    # max degrees either way; None: 15, or 180 when the images share no edge direction
    # (``orientation.rotation_is_nuisance``), decided once the images are read
    rotation: float | None = None
    scale: tuple[float, float] = (0.9, 1.1)  # zoom range (>1 = zoom in, i.e. a resized crop)
    translate: float = 0.1  # max shift as a fraction of the image side
    flip: bool = False  # horizontal flip with probability 1/2 (off: digits are not flip-invariant)
    brightness: float = 0.1  # max additive shift (images in [0, 1])
    contrast: float = 0.2  # max relative contrast change
    noise: float = 0.03  # std of additive Gaussian noise
    # max |log gamma| of a random tone curve x**gamma: stroke weight and exposure become
    # nuisances (scan digits 0.88 -> 0.94 with it, seed 0; docs/benchmarks.md)
    gamma: float = 0.4
    colour: bool = True  # colour images only: shuffle channels, jitter saturation, sometimes gray
    # What fills the area a shift or zoom-out uncovers: "border" repeats the image's own edge
    # (its background, for objects on a plain ground); "zeros" paints black, which on a light
    # background draws a frame that differs between the two views.
    padding: str = "border"


def augment_config(base: AugmentConfig | None = None, *, flip: bool | None = None,
                   translate: float | None = None, zoom: float | None = None,
                   rotation: float | None = None, colour: bool | None = None) -> AugmentConfig:
    """``base`` (or the defaults) with the strengths given (None: keep), each checked:
    ``zoom`` z is the scale range (1 - z, 1 + z)."""
    from dataclasses import replace

    from mitool.errors import UsageError

    changes: dict = {}
    if flip is not None:
        changes["flip"] = flip
    if translate is not None:
        if not 0 <= translate <= 0.5:
            raise UsageError(f"{{param}} must be between 0 and 0.5, got {translate}",
                             function="augment_config", parameter="translate")
        changes["translate"] = translate
    if zoom is not None:
        if not 0 <= zoom < 1:
            raise UsageError(f"{{param}} must be at least 0 and below 1, got {zoom}",
                             function="augment_config", parameter="zoom")
        changes["scale"] = (1 - zoom, 1 + zoom)
    if rotation is not None:
        if not 0 <= rotation <= 180:
            raise UsageError(f"{{param}} must be between 0 and 180 degrees, got {rotation}",
                             function="augment_config", parameter="rotation")
        changes["rotation"] = rotation
    if colour is not None:
        changes["colour"] = colour
    return replace(base or AugmentConfig(), **changes)


def augment(x: "torch.Tensor", cfg: AugmentConfig) -> "torch.Tensor":
    """Perturb each image of x: (B, C, H, W) in [0, 1] -> (B, C, H, W), same device and dtype."""
    import torch
    import torch.nn.functional as F

    b = x.shape[0]
    dev, dt = x.device, x.dtype

    def uniform(lo: float, hi: float) -> "torch.Tensor":  # (B,) uniform on [lo, hi]
        return torch.rand(b, device=dev, dtype=dt) * (hi - lo) + lo

    most = DEFAULT_ROTATION if cfg.rotation is None else cfg.rotation
    angle = uniform(-most, most) * (math.pi / 180.0)
    zoom = uniform(cfg.scale[0], cfg.scale[1])
    # affine_grid maps output coords to input coords: sampling a smaller area zooms in.
    inv = 1.0 / zoom
    cos, sin = torch.cos(angle) * inv, torch.sin(angle) * inv
    sx = cos
    if cfg.flip:
        sign = torch.where(torch.rand(b, device=dev) < 0.5, -1.0, 1.0).to(dt)
        sx = cos * sign
        sin_x = sin * sign
    else:
        sin_x = sin
    tx = uniform(-2 * cfg.translate, 2 * cfg.translate)  # normalised coords span 2
    ty = uniform(-2 * cfg.translate, 2 * cfg.translate)
    theta = torch.stack(
        (torch.stack((sx, -sin, tx), dim=1), torch.stack((sin_x, cos, ty), dim=1)), dim=1
    )  # (B, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (B, H, W, 2)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode=cfg.padding, align_corners=False)

    if cfg.gamma > 0:  # x ** gamma per image: thickens or thins blurred strokes
        g = torch.exp(uniform(-cfg.gamma, cfg.gamma)).view(b, 1, 1, 1)
        out = out.clamp_min(1e-4) ** g
    if cfg.contrast > 0 or cfg.brightness > 0:
        mean = out.mean(dim=(1, 2, 3), keepdim=True)  # (B, 1, 1, 1)
        c = uniform(1 - cfg.contrast, 1 + cfg.contrast).view(b, 1, 1, 1)
        shift = uniform(-cfg.brightness, cfg.brightness).view(b, 1, 1, 1)
        out = (out - mean) * c + mean + shift
    if cfg.colour and out.shape[1] == 3:
        out = _colour_jitter(out)
    if cfg.noise > 0:
        out = out + torch.randn_like(out) * cfg.noise
    return out.clamp(0.0, 1.0)


# The 6 orders of (R, G, B): shuffling them changes hue while keeping shape and brightness.
_PERMUTATIONS = ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0))


def _colour_jitter(x: "torch.Tensor", gray_p: float = 0.2, saturation: float = 0.5):
    """Make colour a nuisance, as the paper's Sobel input does: x (B, 3, H, W) -> same shape.

    Without it IIC happily clusters colour images by hue, which survives every other
    perturbation (measured on the rendered shapes of benchmarks/cluster.py).
    """
    import torch

    b, _, h, w = x.shape
    perms = torch.tensor(_PERMUTATIONS, device=x.device)  # (6, 3)
    order = perms[torch.randint(0, 6, (b,), device=x.device)]  # (B, 3)
    x = x.gather(1, order.view(b, 3, 1, 1).expand(b, 3, h, w))
    weights = torch.tensor((0.299, 0.587, 0.114), device=x.device, dtype=x.dtype)
    gray = (x * weights.view(1, 3, 1, 1)).sum(dim=1, keepdim=True)  # (B, 1, H, W)
    sat = torch.rand(b, 1, 1, 1, device=x.device, dtype=x.dtype) * 2 * saturation + 1 - saturation
    sat = torch.where(torch.rand(b, 1, 1, 1, device=x.device) < gray_p, torch.zeros_like(sat), sat)
    return gray + sat * (x - gray)
