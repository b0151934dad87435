# The README's commands. Each bootstraps its own virtual environment in .venv.
#
# .venv gets the generator with its test extra, at the versions template/constraints.txt pins
# (the versions every generated project installs), so the tests run exactly those. The installer
# is uv (`make UV=/path/to/uv`, else the one on PATH); without one, uv is installed from PyPI
# into .venv first, and if that fails, pip installs everything. The test extra brings uv, which
# `make demo` hands to the demo project's own Makefile. A venv made by uv is seeded with pip,
# which the packaging tests use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV ?=
CONSTRAINTS := template/constraints.txt
PORT ?= 5003
DEMO_DIR ?= build/demo-plugin-$(PORT)
# The oldest Copier that pyproject.toml admits, installed beside .venv for tests/test_copier_adapter.py.
COPIER_FLOOR := $(shell sed -n 's/^ *"copier>=\([0-9.]*\),.*/\1/p' pyproject.toml)

.PHONY: demo test pins clean

# One sentence instead of a traceback when PORT is not a port or something already listens there.
define PORT_CHECK
import socket, sys
port = sys.argv[1]
if not (port.isdigit() and 0 < int(port) < 65536):
    sys.exit(f"PORT={port} is not a port number: pick one from 1 to 65535, e.g. make demo PORT=5010.")
with socket.socket() as probe:
    if probe.connect_ex(("127.0.0.1", int(port))) == 0:
        sys.exit(f"Port {port} is already in use: stop what listens there, or pick another one, e.g. make demo PORT={int(port) + 1}.")
endef
export PORT_CHECK

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed: run make with PYTHON=python3.11 (or newer).")'
	@set -e; \
	uv="$(UV)"; [ -n "$$uv" ] || uv="$$(command -v uv || true)"; \
	if [ -z "$$uv" ] && [ -x "$(BIN)/uv" ]; then uv="$(BIN)/uv"; fi; \
	if [ -n "$$uv" ] && [ ! -x "$(BIN)/python" ]; then \
		echo "Creating $(VENV) with uv ($$uv)."; \
		"$$uv" venv --quiet --seed --python "$(PYTHON)" "$(VENV)"; \
	fi; \
	if [ -z "$$uv" ]; then \
		echo "uv is not on PATH: creating $(VENV) and installing uv from PyPI into it."; \
		"$(BIN)/python" -m pip --version >/dev/null 2>&1 || $(PYTHON) -m venv "$(VENV)"; \
		if "$(BIN)/python" -m pip install --quiet --disable-pip-version-check uv >/dev/null 2>&1; then \
			uv="$(BIN)/uv"; \
		else \
			echo "Could not install uv: installing with pip instead (slower)."; \
		fi; \
	fi; \
	if [ -n "$$uv" ]; then \
		"$$uv" pip install --quiet --python "$(BIN)/python" -c $(CONSTRAINTS) -e '.[test]'; \
	else \
		"$(BIN)/python" -m pip install --quiet --disable-pip-version-check -c $(CONSTRAINTS) -e '.[test]'; \
	fi
	rm -rf $(VENV)/copier-floor
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --target $(VENV)/copier-floor 'copier==$(COPIER_FLOOR)'
	@touch $(STAMP)

## demo: render a demo plugin (auth none) for localhost:PORT (default 5003) and start it there
# The demo project's make gets none of this make's variables (MAKEFLAGS), only its uv.
demo: $(STAMP)
	@$(BIN)/python -c "$$PORT_CHECK" '$(PORT)'
	@if [ -d "$(DEMO_DIR)" ]; then echo "Reusing $(DEMO_DIR) (delete it to render a fresh one)."; \
	else $(BIN)/plugin new "$(DEMO_DIR)" --defaults --name "Demo Todo" --domain "localhost:$(PORT)" --auth none; fi
	MAKEFLAGS= $(MAKE) -C "$(DEMO_DIR)" run UV="$(abspath $(BIN))/uv"

## test: run the whole test suite, including every auth mode's generated test suite
test: $(STAMP)
	$(BIN)/python -m pytest -n auto

## pins: re-resolve template/constraints.txt (the versions generated projects and the tests use)
pins: $(STAMP)
	$(BIN)/python -m generator.pins

clean:
	rm -rf $(VENV) build
