# Two commands on a fresh machine (only Python 3.10+ needed):
#   make demo   set up .venv, install archgym, run a short real exploration
#   make test   set up .venv, install archgym + test tools, run the test suite
# and the code-health gate (CI runs it before the tests):
#   make lint   ruff check, ruff format --check and mypy (versions pinned in the `lint` extra)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.archgym-installed
LINT_STAMP := $(VENV)/.archgym-lint-installed
# torch first, pinned to the CPU build on disk; the project itself asks for torch>=2.2
TORCH  ?= torch==2.13.0

.PHONY: demo test test-all lint bench install clean browser

$(STAMP): pyproject.toml setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[test,nasbench,zigzag,suite,browser]"
	$(PY) -m pip install --quiet --no-deps "rliable==1.2.0"
	touch $(STAMP)

install: $(STAMP)

# Debian's chromium for the HTML report's browser test (tests/test_report_html.py skips without it)
browser:
	command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

$(LINT_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e ".[test,lint]"
	touch $(LINT_STAMP)

lint: $(LINT_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m mypy

demo: $(STAMP)
	$(VENV)/bin/archgym run env=dram agent=random budget=100 seed=0

test: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

test-all: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) runs multirun outputs .pytest_cache
