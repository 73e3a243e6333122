"""Each bound against values worked out by hand on tiny tensors."""

import math

import pytest
import torch

from mitool.estimators.neural import bounds

TJ = torch.tensor([1.0, 2.0, 3.0])  # joint scores: mean 2
TM = torch.tensor([0.0, math.log(3.0)])  # marginal scores: e^T = 1, 3 -> mean 2


def close(a, b, tol=1e-6):
    return abs(float(a) - b) < tol


def test_log_mean_exp_is_stable():
    assert close(bounds.log_mean_exp(TM), math.log(2.0))
    big = torch.tensor([1000.0, 1000.0])
    assert close(bounds.log_mean_exp(big), 1000.0)  # naive exp would overflow


def test_dv():
    assert close(bounds.dv(TJ, TM), 2.0 - math.log(2.0))


def test_nwj():
    # E_marg[e^(T-1)] = (e^-1 + 3 e^-1) / 2 = 2/e
    assert close(bounds.nwj(TJ, TM), 2.0 - 2.0 / math.e)


def test_jsd():
    sp = lambda v: math.log1p(math.exp(v))  # noqa: E731
    want = -(sp(-1) + sp(-2) + sp(-3)) / 3 - (sp(0.0) + sp(math.log(3.0))) / 2
    assert close(bounds.jsd(TJ, TM), want)


def test_smile_clips_only_partition_term():
    tm = torch.tensor([10.0, -10.0])
    want = 2.0 - math.log((math.exp(2.0) + math.exp(-2.0)) / 2)
    assert close(bounds.smile(TJ, tm, clip=2.0), want)
    # a clip wider than the scores is plain DV
    assert close(bounds.smile(TJ, TM, clip=50.0), float(bounds.dv(TJ, TM)))


def test_infonce_by_hand_and_ceiling():
    s = torch.tensor([[2.0, 0.0], [1.0, 3.0]])
    row0 = 2.0 - math.log(math.exp(2.0) + 1.0)
    row1 = 3.0 - math.log(math.exp(1.0) + math.exp(3.0))
    assert close(bounds.infonce(s), (row0 + row1) / 2 + math.log(2))
    # a perfect critic reaches, and never passes, log B
    perfect = torch.eye(4) * 1e4
    assert close(bounds.infonce(perfect), math.log(4), 1e-4)
    assert bounds.infonce(perfect) <= bounds.infonce_ceiling(4) + 1e-6


def test_split_scores():
    s = torch.arange(9.0).reshape(3, 3)
    joint, marg = bounds.split_scores(s)
    assert joint.tolist() == [0.0, 4.0, 8.0]
    assert sorted(marg.tolist()) == [1.0, 2.0, 3.0, 5.0, 6.0, 7.0]


def test_mine_ema_gradient_uses_moving_average():
    tj = TJ.clone().requires_grad_(True)
    tm = TM.clone().requires_grad_(True)
    # previous EMA of E_marg[e^T] = 4; the batch has 2; rate 0.5 -> new EMA 3
    loss, value, log_ema = bounds.mine_ema_loss(tj, tm, torch.tensor(math.log(4.0)), rate=0.5)
    assert close(log_ema, math.log(3.0))
    assert close(value, 2.0 - math.log(2.0))  # the reported value is plain DV
    loss.backward()
    # d loss / d tm_k = e^{tm_k} / (M * EMA) = e^{tm_k} / 6
    assert tm.grad.tolist() == pytest.approx([1 / 6, 3 / 6])
    assert tj.grad.tolist() == pytest.approx([-1 / 3] * 3)


def test_mine_ema_starts_from_first_batch():
    _, _, log_ema = bounds.mine_ema_loss(TJ, TM, None, rate=0.01)
    assert close(log_ema, math.log(2.0))
