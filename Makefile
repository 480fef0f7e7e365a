# Hotline 1022. `make run` and `make test` are all a newcomer needs (see README.md).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: run test check bench lint clean debian-test-deps debian-run-deps

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

# Debian packages the tests drive for real (a browser for the page tests; sipp, baresip,
# espeak-ng, sox and kamailio for the phone line). Installed only when running as root with
# apt; otherwise those tests say what is missing.
debian-test-deps:
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  pkgs=""; \
	  command -v chromium >/dev/null || pkgs="$$pkgs chromium"; \
	  command -v sipp >/dev/null || pkgs="$$pkgs sip-tester"; \
	  command -v baresip >/dev/null || pkgs="$$pkgs baresip-core"; \
	  command -v espeak-ng >/dev/null || pkgs="$$pkgs espeak-ng"; \
	  command -v sox >/dev/null || pkgs="$$pkgs sox"; \
	  command -v kamailio >/dev/null || pkgs="$$pkgs kamailio"; \
	  command -v nginx >/dev/null || pkgs="$$pkgs nginx"; \
	  if [ -n "$$pkgs" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$pkgs; fi; \
	fi

# The phone line speaks its Vietnamese prompts with espeak-ng and sox (a tone stands in
# when they are missing and apt is not available).
debian-run-deps:
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  pkgs=""; \
	  command -v espeak-ng >/dev/null || pkgs="$$pkgs espeak-ng"; \
	  command -v sox >/dev/null || pkgs="$$pkgs sox"; \
	  if [ -n "$$pkgs" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$pkgs; fi; \
	fi

run: $(STAMP) debian-run-deps
	$(VENV)/bin/hotline run

test: $(STAMP) debian-test-deps
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

check: lint test

# wrk for the web benchmarks; sipp and tshark (the RTP capture) for the phone-line one.
bench: $(STAMP) debian-run-deps
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  pkgs=""; \
	  command -v wrk >/dev/null || pkgs="$$pkgs wrk"; \
	  command -v sipp >/dev/null || pkgs="$$pkgs sip-tester"; \
	  command -v tshark >/dev/null || pkgs="$$pkgs tshark"; \
	  if [ -n "$$pkgs" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$pkgs; fi; \
	fi
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
