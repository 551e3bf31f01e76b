.PHONY: test demo sandbox lint bench

test:  ## set everything up and run every test
	bash scripts/test.sh

demo:  ## set everything up and open the quickstart on the sandbox
	bash scripts/demo.sh

sandbox:  ## run the embedded Vibe sandbox on its own
	bash scripts/setup.sh sandbox
	.venv/bin/python -m vibe_notebook.sandbox --profile demo

lint:
	bash scripts/setup.sh dev
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

bench:
	bash scripts/setup.sh test
	for b in benchmarks/bench_*.py; do .venv/bin/python "$$b" || exit 1; done
