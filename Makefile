# The README's two commands. Each bootstraps its own virtual environment in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= build/demo-plugin
# The oldest Copier that pyproject.toml admits, installed beside .venv for tests/test_copier_adapter.py.
COPIER_FLOOR := $(shell sed -n 's/^ *"copier>=\([0-9.]*\),.*/\1/p' pyproject.toml)

.PHONY: demo test clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed: run make with PYTHON=python3.11 (or newer).")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -rf $(VENV)/copier-floor
	$(BIN)/python -m pip install --quiet --no-deps --target $(VENV)/copier-floor 'copier==$(COPIER_FLOOR)'
	@touch $(STAMP)

## demo: render a demo plugin (auth none, localhost:5003) into build/demo-plugin and start it
demo: $(STAMP)
	@if [ -d "$(DEMO_DIR)" ]; then echo "Reusing $(DEMO_DIR) (delete it to render a fresh one)."; \
	else $(BIN)/plugin new "$(DEMO_DIR)" --defaults --name "Demo Todo" --domain localhost:5003 --auth none; fi
	$(MAKE) -C "$(DEMO_DIR)" run

## test: run the whole test suite, including every auth mode's generated test suite
test: $(STAMP)
	$(BIN)/python -m pytest -n auto

clean:
	rm -rf $(VENV) build
