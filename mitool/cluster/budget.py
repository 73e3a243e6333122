"""How much training a folder gets, how long it will take, and when to stop early.

Training is sized by work, not epochs: ``training_steps(n)`` optimiser steps per head, growing
sub-linearly with the number of images (a bigger folder needs more steps, not proportionally
more: each step already sees a fresh random batch). ``TrainPlan`` turns a timed warm-up into
the expected duration and, for long CPU jobs, says what the usual levers would save.
``Plateau`` stops training when the best sub-head's loss has stopped improving. Pure Python:
no torch, so every rule here is tested with plain numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mitool.durations import format_duration

# Main-head steps for BASE_IMAGES images, and how the count grows with more images (steps are
# counted per head: the over-clustering head gets as many). Chosen in docs/benchmarks.md.
BASE_STEPS = 700
BASE_IMAGES = 1800
EXPONENT = 0.3
MIN_STEPS = 100
MAX_STEPS = 4000
LONG_JOB_SECONDS = 600.0  # above this on CPU the plan suggests what would make it shorter


def training_steps(n_images: int) -> int:
    """Optimiser steps per head for ``n_images`` training images: 700 at 1,800 images,
    growing as n^0.3 (2,000 at 60,000), between MIN_STEPS and MAX_STEPS."""
    if n_images < 1:
        raise ValueError("need at least one image")
    steps = BASE_STEPS * (n_images / BASE_IMAGES) ** EXPONENT
    return int(min(MAX_STEPS, max(MIN_STEPS, round(steps))))


def steps_for_epochs(epochs: int, n_images: int, batch_size: int) -> int:
    """Steps per head that ``epochs`` passes over ``n_images`` take (the --epochs override)."""
    per_pass = max(1, n_images // batch_size) if n_images >= batch_size else 1
    return epochs * per_pass


def schedule(heads: tuple[str, ...], per_head: int, round_len: int) -> list[str]:
    """The head of every step: ``round_len`` steps of each head in turn (the paper's
    alternation), every head getting exactly ``per_head`` steps."""
    if per_head < 0 or round_len < 1:
        raise ValueError("per_head must be >= 0 and round_len >= 1")
    order: list[str] = []
    left = dict.fromkeys(heads, per_head)
    while any(left.values()):
        for h in heads:
            take = min(round_len, left[h])
            order += [h] * take
            left[h] -= take
    return order


@dataclass
class Plateau:
    """Early stopping on a noisy, slowly falling loss (one value per round).

    Stops once the mean of the last ``window`` values is no longer ``min_delta`` below the
    mean of the ``window`` before them, and never before ``min_checks`` values: comparing
    means of windows, not single rounds, keeps round-to-round noise from stopping a run
    that is still improving slowly (a single-round rule stopped the 8x8 digits at half their
    budget, at 0.78 accuracy instead of 0.85).
    """

    window: int = 5
    min_delta: float = 0.01
    min_checks: int = 10
    values: list[float] = field(default_factory=list)

    def update(self, value: float) -> bool:
        self.values.append(value)
        w = self.window
        if len(self.values) < max(self.min_checks, 2 * w):
            return False
        recent = sum(self.values[-w:]) / w
        before = sum(self.values[-2 * w:-w]) / w
        return recent > before - self.min_delta


@dataclass(frozen=True)
class TrainPlan:
    """What a run will cost, from a timed warm-up (``seconds_per_step`` at ``threads``)."""

    steps: int  # optimiser steps, all heads together
    seconds_per_step: float
    eval_seconds: float  # scoring the sub-heads and assigning every image, after training
    n_images: int  # images in the folder
    n_train: int  # images trained on (fewer with --max-images)
    image_size: int
    device: str
    threads: int
    steps_per_head: dict[str, int] = field(default_factory=dict)

    @property
    def expected_seconds(self) -> float:
        return self.steps * self.seconds_per_step + self.eval_seconds

    def advice(self) -> list[str]:
        """For long CPU jobs: what --image-size, --max-images or a GPU would save (roughly)."""
        if self.device != "cpu" or self.expected_seconds < LONG_JOB_SECONDS:
            return []
        tips: list[str] = []
        smaller = max(8, int(self.image_size * 0.7) // 4 * 4)
        if smaller < self.image_size:  # convolution cost follows the number of pixels
            ratio = (smaller / self.image_size) ** 2
            tips.append(f"--image-size {smaller} would take about "
                        f"{format_duration(self.expected_seconds * ratio)}")
        if self.n_train > 5000:
            fewer = max(2000, self.n_train // 4)
            ratio = training_steps(fewer) / training_steps(self.n_train)
            tips.append(f"--max-images {fewer} (train on a sample, assign all) would take about "
                        f"{format_duration(self.steps * self.seconds_per_step * ratio + self.eval_seconds)}")
        tips.append("a GPU (--device cuda) typically runs these small networks 10-50x faster")
        return tips

    def summary(self) -> str:
        """One line for the user before training starts."""
        heads = " + ".join(f"{n} {h}" for h, n in self.steps_per_head.items()) or str(self.steps)
        on = f"{self.device}, {self.threads} thread(s)" if self.device == "cpu" else self.device
        sample = (f" on {self.n_train:,} of {self.n_images:,} images" if self.n_train < self.n_images
                  else f" on {self.n_images:,} images")
        return (f"training {heads} steps{sample} at {self.image_size} px: about "
                f"{format_duration(self.expected_seconds)} ({self.seconds_per_step * 1000:.0f} ms "
                f"per step on {on})")
