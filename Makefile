# One-command developer loop. `make test` is exactly what CI runs.
.PHONY: install test lint format bench demo docs

install:
	python3 -m pip install -e ".[dev]"

test:
	bash scripts/test.sh

lint:
	python3 -m ruff check src tests examples bench scripts
	python3 -m ruff format --check src tests examples bench scripts
	python3 -m deptry src
	lint-imports
	python3 -m mypy

format:
	python3 -m ruff format src tests examples bench scripts
	python3 -m ruff check --fix src tests examples bench scripts

bench:
	python3 bench/train_register.py
	python3 bench/gate.py
	python3 bench/cli.py

demo:
	python3 -m pip install -e . && lightkeeper demo

docs:
	python3 scripts/gen_settings_doc.py
