"""Variational MI bounds as small pure tensor functions (all values in nats).

Conventions: ``t_joint`` (B,) holds critic scores T(x_i, y_i) on paired rows; ``t_marg`` (M,)
holds scores on pairs drawn from the product of marginals (y shuffled against x). ``scores``
(B, B) is an all-pairs matrix with ``scores[i, j] = T(x_i, y_j)``: the diagonal is the joint,
the off-diagonal entries are marginal pairs. Every log-mean-exp goes through ``logsumexp``
so large critic values never overflow.

References: Belghazi et al. 2018 (MINE, DV), Nguyen-Wainwright-Jordan 2010 (NWJ), Hjelm et
al. 2019 (JSD / Deep InfoMax), van den Oord et al. 2018 (InfoNCE), Song & Ermon 2020 (SMILE),
Poole et al. 2019 (the common view of all of them).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def log_mean_exp(t: torch.Tensor) -> torch.Tensor:
    """log(mean(exp(t))) over all entries, computed stably."""
    return torch.logsumexp(t.reshape(-1), dim=0) - math.log(t.numel())


def split_scores(scores: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, B) all-pairs scores -> joint (B,) diagonal and marginal (B*(B-1),) off-diagonal."""
    b = scores.shape[0]
    joint = scores.diagonal()
    off = ~torch.eye(b, dtype=torch.bool, device=scores.device)
    return joint, scores[off]


def dv(t_joint: torch.Tensor, t_marg: torch.Tensor) -> torch.Tensor:
    """Donsker-Varadhan bound (MINE-biased): E_joint[T] - log E_marg[e^T]."""
    return t_joint.mean() - log_mean_exp(t_marg)


def nwj(t_joint: torch.Tensor, t_marg: torch.Tensor) -> torch.Tensor:
    """NWJ / MINE-f bound: E_joint[T] - E_marg[e^(T-1)] (exp of the stable log-mean-exp).

    Tight at T = 1 + log p(x,y)/(p(x)p(y)): the form for critics trained on NWJ itself.
    """
    return t_joint.mean() - torch.exp(log_mean_exp(t_marg) - 1.0)


def nwj_shifted(t_joint: torch.Tensor, t_marg: torch.Tensor) -> torch.Tensor:
    """NWJ evaluated at T + 1: 1 + E_joint[T] - E_marg[e^T].

    The form for critics whose optimum is T* = log p(x,y)/(p(x)p(y)) (Jensen-Shannon
    trained). There E_marg[e^T*] = 1, so plain ``nwj`` gives I - 1/e (low by 0.368 nats)
    while this gives I.
    """
    return 1.0 + t_joint.mean() - torch.exp(log_mean_exp(t_marg))


def jsd(t_joint: torch.Tensor, t_marg: torch.Tensor) -> torch.Tensor:
    """Jensen-Shannon (Deep InfoMax) objective E_joint[-sp(-T)] - E_marg[sp(T)].

    Not in nats: it trains the critic; MI is read out with a KL bound on that critic. Its
    optimum is T* = log p(x,y)/(p(x)p(y)): DV (shift-invariant) is tight there, NWJ only after
    the shift T* + 1 (``nwj_shifted``). A trained critic is not the optimum, so either readout
    is a lower bound on the critic's own terms plus sampling error, not an unbiased estimate.
    """
    return (-F.softplus(-t_joint)).mean() - F.softplus(t_marg).mean()


def smile(t_joint: torch.Tensor, t_marg: torch.Tensor, clip: float = 5.0) -> torch.Tensor:
    """SMILE: DV with the partition term on clip(T, -clip, clip) (lower variance, some bias)."""
    return t_joint.mean() - log_mean_exp(torch.clamp(t_marg, -clip, clip))


def infonce(scores: torch.Tensor) -> torch.Tensor:
    """InfoNCE on a (B, B) score matrix: mean_i [T_ii - log mean_j e^{T_ij}].

    Each positive is compared with all B candidates (itself included), so the value can never
    exceed log B: see ``infonce_ceiling``.
    """
    b = scores.shape[0]
    return (scores.diagonal() - torch.logsumexp(scores, dim=1)).mean() + math.log(b)


def infonce_ceiling(n_candidates: int) -> float:
    """InfoNCE's hard ceiling: log of the number of candidates per positive."""
    return math.log(n_candidates)


def mine_ema_loss(
    t_joint: torch.Tensor, t_marg: torch.Tensor, log_ema: torch.Tensor | None, rate: float = 0.01
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """MINE's bias-corrected loss; returns (loss to minimise, DV value, new log-EMA).

    The DV gradient through log E_marg[e^T] is (grad E_marg[e^T]) / E_marg[e^T], and the
    denominator estimated on one batch biases it. MINE divides by a moving average of
    E_marg[e^T] instead (rate ``rate``: each batch gets that weight). The surrogate
    exp(lme - log_ema) has exactly that gradient; the EMA is kept in log space (no overflow)
    and is detached, so it is a constant for autograd. ``log_ema=None`` starts the average.
    """
    lme = log_mean_exp(t_marg)
    batch = lme.detach()
    if log_ema is None:
        new_log_ema = batch
    else:
        new_log_ema = torch.logaddexp(log_ema + math.log1p(-rate), batch + math.log(rate))
    surrogate = torch.exp(lme - new_log_ema)
    loss = -(t_joint.mean() - surrogate)
    value = t_joint.mean().detach() - batch
    return loss, value, new_log_ema
