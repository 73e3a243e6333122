"""Reading MI out of a trained critic: per-row statistics on a set of rows, then any bound
(DV, NWJ, SMILE, InfoNCE) and its standard error from them.
"""

from __future__ import annotations

import math

import torch

from mitool.estimators.config import NeuralConfig

EVAL_BLOCK = 4096  # rows per block: marginal pairs are drawn inside a block
SPREAD_GROUPS = 10  # held-out rows are cut into this many groups for the standard error
PAIRS_PER_PASS = 1 << 15  # concat critic: scored pairs per forward pass (bounds memory)
CONCAT_PAIRS = 1 << 22  # concat critic: pairs in a whole readout (4.2M; bounds time)
SEPARABLE_PAIRS = 1 << 30  # separable critic: dot products in a whole readout


@torch.no_grad()
def row_stats(critic, x: torch.Tensor, y: torch.Tensor, separable: bool, shifts: int,
              clip: float, gen: torch.Generator, block: int = EVAL_BLOCK
              ) -> dict[str, torch.Tensor]:
    """Per-row statistics from which every bound is read out on (x, y).

    t (n,): joint score; lse (n,): logsumexp of that row's marginal scores; lse_clip (n,):
    the same on clipped scores; cnt (n,): number of marginal scores; nce (n,): InfoNCE term.
    Rows are taken in blocks of at most ``block``: separable critics score all pairs within
    a block; concat critics score each x_i against ``shifts`` other rows of its block
    (distinct random shifts, so never the row itself), a few shifts at a time so memory
    stays bounded whatever the number of rows.
    """
    n = x.shape[0]
    n_blocks = max(1, math.ceil(n / block))
    out: dict[str, list[torch.Tensor]] = {k: [] for k in ("t", "lse", "lse_clip", "cnt", "nce")}
    for idx in torch.arange(n, device=x.device).tensor_split(n_blocks):
        xb, yb = x[idx], y[idx]  # (b, d)
        b = xb.shape[0]
        if separable:
            s = critic.all_pairs(xb, yb)  # (b, b)
            t = s.diagonal().clone()
            eye = torch.eye(b, dtype=torch.bool, device=x.device)
            m = s.masked_fill(eye, -math.inf)
            mc = s.clamp(-clip, clip).masked_fill(eye, -math.inf)
            cnt = torch.full((b,), float(b - 1), device=x.device)
        else:
            k = min(shifts, b - 1)
            ks = (torch.randperm(b - 1, generator=gen, device=gen.device)[:k] + 1).to(x.device)
            t = critic(xb, yb)  # (b,)
            per = max(1, PAIRS_PER_PASS // b)  # shifts per forward pass
            cols = []
            for part in ks.split(per):
                rows = (torch.arange(b, device=x.device)[None, :] + part[:, None]) % b  # (s, b)
                sc = critic(xb.repeat(part.shape[0], 1), yb[rows.reshape(-1)])
                cols.append(sc.reshape(part.shape[0], b).T)  # (b, s)
            m = torch.cat(cols, dim=1)  # (b, k) marginal scores
            mc = m.clamp(-clip, clip)
            cnt = torch.full((b,), float(k), device=x.device)
        out["t"].append(t)
        out["lse"].append(torch.logsumexp(m, dim=1))
        out["lse_clip"].append(torch.logsumexp(mc, dim=1))
        out["cnt"].append(cnt)
        # InfoNCE: the positive among itself and the row's marginal candidates
        lse_all = torch.logaddexp(torch.logsumexp(m, dim=1), t)
        out["nce"].append(t - lse_all + torch.log(cnt + 1))
    return {k: torch.cat(v) for k, v in out.items()}


def readout_plan(n_rows: int, separable: bool, max_shifts: int) -> tuple[int, int]:
    """(shifts per row, block size) for a readout on n_rows rows within a fixed budget.

    The cost of reading a trained critic out must not grow faster than the rows: concat
    critics get at most ``CONCAT_PAIRS`` scored pairs in all (fewer marginal shifts per row
    as rows grow, at least one); separable critics, whose pairs cost a dot product each,
    at most ``SEPARABLE_PAIRS`` (smaller all-pairs blocks as rows grow, at least 256).
    """
    if separable:
        return max_shifts, int(min(EVAL_BLOCK, max(256, SEPARABLE_PAIRS // max(n_rows, 1))))
    shifts = int(min(max_shifts, max(1, CONCAT_PAIRS // max(n_rows, 1) - 1)))
    return shifts, EVAL_BLOCK


def readout(kind: str, st: dict[str, torch.Tensor], clip: float) -> torch.Tensor:
    """A bound (0-d tensor, nats) from per-row stats (or a subset of rows).

    Kinds: ``dv``; ``nwj`` (E[T] - E[e^(T-1)], for NWJ-trained critics); ``nwj-js``
    (1 + E[T] - E[e^T], NWJ for critics whose optimum is log r, i.e. JS-trained ones);
    ``smile`` (DV with clipped partition term); ``infonce``.
    """
    if kind == "infonce":
        return st["nce"].mean()
    log_total = torch.log(st["cnt"].sum())
    if kind == "smile":
        return st["t"].mean() - (torch.logsumexp(st["lse_clip"], 0) - log_total)
    lme = torch.logsumexp(st["lse"], 0) - log_total  # log E_marg[e^T], pooled over all pairs
    if kind == "nwj":
        return st["t"].mean() - torch.exp(lme - 1.0)
    if kind == "nwj-js":
        return 1.0 + st["t"].mean() - torch.exp(lme)
    return st["t"].mean() - lme  # dv


def readout_kind(name: str, config: NeuralConfig) -> str:
    """The bound an estimator reports (and early stopping watches)."""
    if name in ("mine", "mine-biased"):
        return "dv"
    if name == "jsd":
        return "nwj-js" if config.readout == "nwj" else "dv"
    return name  # nwj, smile, infonce


# the bounds worth reporting beside the headline readout, per estimator (JSON ``readouts``):
# a DV-trained critic's additive constant is arbitrary (DV is shift-invariant), so NWJ on it
# means nothing; NWJ <= DV holds for any critic, so both are shown where both are meaningful
REPORTED_READOUTS = {
    "mine": {"dv": "dv"},
    "mine-biased": {"dv": "dv"},
    "nwj": {"nwj": "nwj", "dv": "dv"},
    "jsd": {"dv": "dv", "nwj": "nwj-js"},
    "smile": {"smile": "smile", "dv": "dv"},
    "infonce": {"infonce": "infonce"},
}


def standard_error(kind: str, st: dict[str, torch.Tensor], clip: float) -> float:
    """Standard error of the estimate from SPREAD_GROUPS disjoint groups of held-out rows."""
    n = st["t"].shape[0]
    g = min(SPREAD_GROUPS, n // 2)
    if g < 2:
        return float("nan")
    vals = torch.stack([
        readout(kind, {k: v[i] for k, v in st.items()}, clip)
        for i in torch.arange(n, device=st["t"].device).tensor_split(g)
    ])
    return float(vals.std() / math.sqrt(g))


def evaluate(critic, x: torch.Tensor, y: torch.Tensor, separable: bool, shifts: int,
             clip: float, gen: torch.Generator, eval_seed: int, block: int = EVAL_BLOCK
             ) -> dict[str, torch.Tensor]:
    """``row_stats`` in eval mode with a seeded choice of marginal pairs."""
    gen.manual_seed(eval_seed)
    critic.eval()
    st = row_stats(critic, x, y, separable, shifts, clip, gen, block)
    critic.train()
    return st
