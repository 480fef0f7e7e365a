# Hotline 1022. `make run` and `make test` are all a newcomer needs (see README.md).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | sha1sum | cut -c1-12)

.PHONY: install lock run test check bench lint clean screenshots debian-test-deps debian-run-deps

# Exactly the locked versions (hashes checked), then the project itself without resolving
# anything again. requirements.lock is made from pyproject.toml by `make lock`.
$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

# Regenerate the lock after changing the dependencies in pyproject.toml: versions already
# locked are kept where they still fit; `make lock LOCK_ARGS=--upgrade` moves everything to
# the newest allowed. pip-tools lives in its own venv, out of the project's.
LOCK_VENV := .venv-lock
LOCK_ARGS ?=
lock:
	test -x $(LOCK_VENV)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_VENV) && \
	  $(LOCK_VENV)/bin/pip install --quiet pip-tools; }
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile --quiet \
	  --extra test --strip-extras --generate-hashes --allow-unsafe \
	  --no-emit-index-url --no-emit-find-links --no-emit-trusted-host \
	  $(LOCK_ARGS) -o requirements.lock pyproject.toml

# Debian packages the tests drive for real (a browser for the page tests; sipp, baresip,
# espeak-ng, sox and kamailio for the phone line; kamailio's TLS and SQLite modules and rtpengine for
# the edge in front of it; dovecot for the e-mail channel's IMAP).
# Installed only when running as root with apt; otherwise those tests say what is missing.
debian-test-deps:
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  pkgs=""; \
	  command -v chromium >/dev/null || pkgs="$$pkgs chromium"; \
	  command -v sipp >/dev/null || pkgs="$$pkgs sip-tester"; \
	  command -v baresip >/dev/null || pkgs="$$pkgs baresip-core"; \
	  command -v espeak-ng >/dev/null || pkgs="$$pkgs espeak-ng"; \
	  command -v sox >/dev/null || pkgs="$$pkgs sox"; \
	  command -v kamailio >/dev/null || pkgs="$$pkgs kamailio"; \
	  ls /usr/lib/*/kamailio/modules/tls.so >/dev/null 2>&1 || pkgs="$$pkgs kamailio-tls-modules"; \
	  ls /usr/lib/*/kamailio/modules/db_sqlite.so >/dev/null 2>&1 || pkgs="$$pkgs kamailio-sqlite-modules"; \
	  command -v rtpengine >/dev/null || pkgs="$$pkgs rtpengine-daemon"; \
	  command -v nginx >/dev/null || pkgs="$$pkgs nginx"; \
	  test -x /usr/sbin/dovecot || pkgs="$$pkgs dovecot-imapd"; \
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

# Two workers per core (pytest-xdist), a test file per worker at a time so module fixtures
# are built once; each worker has its own PostgreSQL database (tests/conftest.py). Two per
# core because most of the suite waits (SIP peers, Kamailio, browsers, mail servers, the
# database): on 2 cores a full run took 36 min with 2 workers and 22 min with 4, with the
# processes' CPU at 24 and 26.5 min.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) * 2 )))
test: $(STAMP) debian-test-deps
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

check: lint test

# The screenshots of the main screens in docs/screenshots/, taken by the browser tests as they
# go through each screen (every test marked e2e; the README shows them).
screenshots: $(STAMP) debian-test-deps
	HOTLINE_SCREENSHOTS=$(CURDIR)/docs/screenshots $(PY) -m pytest -q -m e2e tests

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
	rm -rf $(VENV) $(LOCK_VENV) var .pytest_cache .mypy_cache .ruff_cache
