# Calmline: the two quick-start commands are `make demo` and `make test`.
# Each creates (or reuses) the virtual environment in .venv and installs from this repository.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SAMPLE ?= samples/en_stereo_mulaw.wav

.PHONY: bench-load bench-live bench-memory demo test lint bench-speed bench-accuracy bench-der bench-asr bench-text bench-scoring bench-pyannote bench-calibrate bench-articulation clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24"

# the CPU build of torch is pinned in the extras; see pyproject.toml
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[mono]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[mono,dev]"
	touch $@ $(VENV)/.installed-run

demo: $(VENV)/.installed-run
	$(BIN)/calmline analyze $(SAMPLE)

test: $(VENV)/.installed-dev
	bash scripts/system-deps.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench-speed: $(VENV)/.installed-dev
	$(BIN)/python bench/speed.py

bench-accuracy: $(VENV)/.installed-dev
	$(BIN)/python bench/accuracy.py

bench-der: $(VENV)/.installed-dev
	$(BIN)/python bench/accuracy.py --only der --out bench/results/der.json

bench-asr: $(VENV)/.installed-dev
	$(BIN)/python bench/accuracy.py --only asr --out bench/results/asr.json

bench-text: $(VENV)/.installed-dev
	$(BIN)/python bench/text_eval.py

bench-scoring: $(VENV)/.installed-dev
	$(BIN)/python bench/scoring_speed.py

bench-calibrate: $(VENV)/.installed-dev
	$(BIN)/python bench/calibrate.py

bench-articulation: $(VENV)/.installed-dev
	$(BIN)/python bench/articulation.py

bench-load: $(VENV)/.installed-dev
	$(BIN)/python bench/load.py

bench-live: $(VENV)/.installed-dev
	$(BIN)/python bench/live_latency.py --levels 1,2,4,8 --seconds 60 --soak-minutes 3

bench-memory: $(VENV)/.installed-dev
	$(BIN)/python bench/memory.py

bench-pyannote:
	bash bench/pyannote_backend.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
