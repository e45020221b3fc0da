# Set-up and the two commands the README promises.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip

.PHONY: system-deps sandbox-deps torch setup setup-test setup-lint lint test test-fast test-latest test-py313 demo demo-train bench-overhead

# System packages the tests use (Redis server, sandbox, compilers and runtimes the judge tests run
# for real: JDK, PyPy; terminal, browser); skipped when present.
system-deps:
	@missing=""; \
	for pair in redis-server:redis-server bwrap:bubblewrap tmux:tmux git:git gcc:gcc g++:g++ \
		javac:default-jdk-headless pypy3:pypy3 \
		chromium:chromium chromedriver:chromium-driver; do \
		cmd=$${pair%%:*}; pkg=$${pair##*:}; command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq $$missing; fi; \
	fi

# The judge refuses to run programs unisolated: the main job needs bubblewrap too.
sandbox-deps:
	@command -v bwrap >/dev/null 2>&1 || { \
		echo "installing: bubblewrap"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq bubblewrap; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq bubblewrap; fi; }

# torch: the pinned CPU build where it is available locally, the platform default elsewhere.
torch:
	@$(PYTHON) -c "import torch" 2>/dev/null || $(PIP) install -q "torch==2.13.0"

setup: sandbox-deps torch
	$(PIP) install -q -e ".[llm,local,redis,plot,ui]"

setup-test: system-deps torch
	$(PIP) install -q -e ".[llm,local,redis,plot,ui,gen,agents,train,dev]"

setup-lint:
	$(PIP) install -q -e ".[lint]"

# Lint, format, types and the layers of DESIGN.md (an import pointing up fails).
lint: setup-lint
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy
	lint-imports

# The README's test command.
test: setup-test
	$(PYTHON) -m pytest -q

# The inner loop: no Redis, no browser, nothing slow (under a minute).
test-fast:
	$(PYTHON) -m pytest -q -m "not slow and not redis and not browser and not chaos"

# Weekly-style check that the newest test tools (no upper bounds) still pass, in a throwaway venv
# over the installed packages: the fast tests and the hub's `check` (which runs pytest itself).
# The whole suite takes ~25 min; this subset a few. CI runs it after the suite and only reports.
LATEST_TOOLS = pytest pytest-asyncio pytest-timeout pexpect selenium

test-latest: setup-test
	rm -rf .venv-latest && $(PYTHON) -m venv .venv-latest
	@# the installed packages stay visible behind the venv's own (also when $(PYTHON) is itself a venv)
	$(PYTHON) -c "import site; print(''.join(f'import site; site.addsitedir({p!r})\\n' for p in site.getsitepackages()), end='')" \
		> "$$(.venv-latest/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/installed.pth"
	.venv-latest/bin/python -m pip install -q --upgrade $(LATEST_TOOLS)
	@.venv-latest/bin/python -c "import importlib.metadata as m; print('test-latest:', *(f'{d} {m.version(d)}' for d in '$(LATEST_TOOLS)'.split()))"
	.venv-latest/bin/python -m pytest -q -p no:cacheprovider -m "not slow and not redis and not browser and not chaos"
	.venv-latest/bin/python -m pytest -q -p no:cacheprovider tests/hub/test_cli.py tests/hub/test_scaffold.py tests/hub/test_check_report.py

# The fast tests and the Code Jam (Python 2 conversion) tests again under Python 3.13, which
# dropped lib2to3, when an interpreter for it is found; skipped (with a line) where there is none.
PY313 ?= $(shell for c in python3.13 $$HOME/.pyenv/versions/3.13*/bin/python3.13; do \
	$$c -c "import sys; assert sys.version_info[:2] == (3, 13)" 2>/dev/null && { echo $$c; break; }; done)

test-py313:
	@if [ -z "$(PY313)" ]; then echo "test-py313: no Python 3.13 interpreter found; skipped"; exit 0; fi; \
	if ! $(PY313) -m venv .venv-py313 >/dev/null 2>&1; then echo "test-py313: $(PY313) cannot make a venv; skipped"; exit 0; fi; \
	.venv-py313/bin/pip install -q -e ".[llm,redis,plot,ui,dev]" && \
	.venv-py313/bin/python -m pytest -q -m "not slow and not redis and not browser and not chaos" && \
	.venv-py313/bin/python -m pytest -q tests/judge/test_codejam.py tests/problems/test_codejam.py

# The README's main job: Code_Debug on the shipped sample problems, in process, with the
# local model (Qwen/Qwen2.5-Coder-0.5B-Instruct, or whatever AIFLOWS_MODEL names).
demo: setup
	$(PYTHON) -m aiflows.bench.demo

# Flow-GRPO reproduction on CPU: arms, seeds, held-out table and curves in runs/demo-train.
demo-train:
	$(PYTHON) -m training.flow_grpo.demo.run --out runs/demo-train

bench-overhead:
	$(PIP) install -q -e ".[bench]"
	$(PYTHON) benchmarks/overhead.py
