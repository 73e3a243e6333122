"""The neural MI estimators (MINE, MINE-biased, JSD, NWJ, InfoNCE, SMILE): the package face.

``engine`` is the estimator (split, train, read out, package the result); the parts it calls:
``splits`` (which rows train, validate and are held out), ``training`` (the loop and the
per-bound objectives), ``readouts`` (per-row statistics and every bound read from them),
``bounds`` (the variational bounds as pure tensor functions), ``critics`` (the statistics
networks and their input encoding) and ``settings`` (checks and resolved choices).
"""

from mitool.estimators.neural.engine import estimate_neural, parse_hidden

__all__ = ["estimate_neural", "parse_hidden"]
