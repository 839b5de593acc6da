# incident-assistant: CPU-only image serving the REST API, the OpenAI-compatible endpoint, /mcp and the chat page.
# The labels and the index are mounted, not baked in: build the index into a volume, then serve it.
#   docker build -t incident-assistant .
#   docker run --rm -v "$PWD/labels:/app/labels:ro" -v assistant-index:/app/index incident-assistant assistant index build
#   docker run -p 8000:8000 -v "$PWD/labels:/app/labels:ro" -v assistant-index:/app/index incident-assistant
# A later build into the same volume is served without a restart (the server watches index/current).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    ASSISTANT_MODEL_CACHE_DIR=/app/models

# Optional extras; add llamacpp for a local GGUF model (it compiles, so build tools are installed then).
ARG EXTRAS="openai,slack"
RUN if echo "$EXTRAS" | grep -q llamacpp; then \
      apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
      && rm -rf /var/lib/apt/lists/*; \
    fi

# CPU-only torch first, so installing the package does not pull the CUDA build. torch exports the
# encoder to ONNX at build time; the server runs it with ONNX Runtime and never imports torch.
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"

RUN useradd --create-home --uid 10001 assistant
WORKDIR /app

COPY pyproject.toml README.md ./
COPY assistant ./assistant
COPY prompts ./prompts
# Editable: the package keeps finding prompts/ next to it, as in a checkout.
RUN pip install -e ".[${EXTRAS}]"
RUN mkdir -p labels index data models && chown assistant:assistant labels index data models
VOLUME ["/app/labels", "/app/index", "/app/data"]

USER assistant
# The bundled MiniLM exported to ONNX once, into the image (not a volume): the server runs it on ONNX
# Runtime int8 and never imports torch, which is here only for this step.
RUN python -m assistant.search.encoders.export

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["assistant", "serve", "--host", "0.0.0.0", "--port", "8000"]
