#!/usr/bin/env bash
# Create the benchmark-only environment for Beyond Normal's task generator (benchmarks/bmi40_data.py).
#
#   bash scripts/bench_env.sh            # -> .bench-venv/ (or $BENCH_VENV)
#
# benchmark-mi 0.1.3 imports only with jax/jaxlib 0.4.30 (jax >= 0.4.34 breaks it) and pins
# numpy < 2 and pandas < 2, so it cannot share mitool's .venv. It is a benchmark dependency
# only: mitool never imports it, and the runner (benchmarks/bmi40.py) reads the generated cache.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV="${BENCH_VENV:-.bench-venv}"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet \
    "benchmark-mi==0.1.3" "jax==0.4.30" "jaxlib==0.4.30" "numpy<2" "pandas<2" "pyarrow<17"
"$VENV/bin/python" -c "import bmi, jax, numpy; print('bmi', bmi.__version__ if hasattr(bmi, '__version__') else '0.1.3', 'jax', jax.__version__, 'numpy', numpy.__version__)"
touch "$VENV/.installed"
