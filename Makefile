PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install run test lint completions bench smoke clean

$(BIN)/qwen: pyproject.toml setup.cfg
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(BIN)/qwen

install: $(BIN)/qwen

run: install
	$(BIN)/qwen $(ARGS)

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check qwen_cli tests bench

completions: install
	$(BIN)/qwen completion bash > completions/qwen.bash
	$(BIN)/qwen completion zsh > completions/_qwen
	$(BIN)/qwen completion fish > completions/qwen.fish

bench: install
	$(BIN)/python bench/run.py

smoke: install
	.ci/smoke-wheel.sh

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
