PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install run test lint completions data bench smoke mutation clean

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

# mypy reads [tool.mypy] in pyproject.toml.
lint: install
	$(BIN)/ruff check qwen_cli tests bench
	$(BIN)/ruff format --check qwen_cli tests bench
	$(BIN)/mypy

data: install
	$(BIN)/python -c "from qwen_cli import catalogue as c; [(c.DATA_DIR / f'{p.stem}.parsed.json').write_text(c.parsed_twin(p.stem)) for p in c.DATA_DIR.glob('*.toml')]"

completions: install
	$(BIN)/qwen completion bash > completions/qwen.bash
	$(BIN)/qwen completion zsh > completions/_qwen
	$(BIN)/qwen completion fish > completions/qwen.fish

bench: install
	$(BIN)/python bench/run.py

# Mutation testing with cosmic-ray, on a throwaway copy with its own venv (never this tree); slow, not in CI.
# MODULES=qwen_cli/secrets.py to pick; WORK=DIR to reuse a copy from an earlier run.
mutation: install
	$(BIN)/python bench/mutation.py $(if $(WORK),--work $(WORK)) $(MODULES)

smoke: install
	.ci/smoke-wheel.sh

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
