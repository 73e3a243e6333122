# Two promises (see README): `make demo` and `make test` work on a fresh machine.
# TORCH_SPEC is installed *before* the project so pip does not resolve `torch` to a multi-GB
# CUDA build; override it for another torch, e.g. `make demo TORCH_SPEC="torch==2.5.1"`,
# or TORCH_SPEC="" to keep whatever torch the environment has.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
# extras installed with the project; CI adds the cluster ones (EXTRAS=dev,distributed-ray,distributed-dask)
EXTRAS ?= dev
BIN := $(VENV)/bin
comma := ,
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
# Benchmark-only environment for Beyond Normal's generator (bmi needs jax 0.4.30, numpy < 2,
# pandas < 2): never mitool's runtime, never needed by `make test`.
BENCH_VENV ?= .bench-venv
BENCH_STAMP := $(BENCH_VENV)/.installed

.PHONY: install demo test lint bench bench-env bmi40-data clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	if [ -n "$(TORCH_SPEC)" ]; then $(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"; fi
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/mitool estimate sample_data/gaussian_1d.csv --x x --y y
	$(BIN)/mitool estimate sample_data/wine.csv --x alcohol,color_intensity --y target

test: $(STAMP)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/knn_speed.py

$(BENCH_STAMP): scripts/bench_env.sh
	BENCH_VENV=$(BENCH_VENV) PYTHON=$(PYTHON) bash scripts/bench_env.sh

bench-env: $(BENCH_STAMP)

# The 40 tasks x N = 1k/5k/10k x seeds 0-2 into out/bmi40/data (~1.5 min, 163 MB)
bmi40-data: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python benchmarks/bmi40_data.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
