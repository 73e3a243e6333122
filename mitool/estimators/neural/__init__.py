"""The neural MI estimators (MINE, MINE-biased, JSD, NWJ, InfoNCE, SMILE): the package face.

``bounds`` holds the variational bounds as pure tensor functions, ``critics`` the statistics
networks and their input encoding, ``engine`` the estimator that trains a critic and reads MI
out on held-out rows.
"""

from mitool.estimators.neural.engine import (
    NEURAL_ESTIMATORS,
    estimate_neural,
    parse_hidden,
    validate_config,
)

__all__ = ["NEURAL_ESTIMATORS", "estimate_neural", "parse_hidden", "validate_config"]
