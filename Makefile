# The two commands of the README: `make demo` (the system up, the 2021 campaign end to end) and
# `make test` (install what is needed, then every check and test). Everything else is a step.
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:$(PATH)
UV := $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")

.PHONY: install test lint typecheck pytest up demo bench clean-run

install:
	@scripts/install.sh

lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run lint-imports

typecheck: install
	$(UV) run pyright

pytest: install
	$(UV) run pytest

test: lint typecheck pytest

up: install
	$(UV) run safety-month up

demo: install
	$(UV) run safety-month demo

bench: install
	$(UV) run python -m bench

clean-run:
	-$(UV) run safety-month infra stop
	rm -rf .run
