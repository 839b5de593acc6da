# incident-assistant: CPU-only image serving the REST API, the OpenAI-compatible endpoint and the chat page.
#   docker build -t incident-assistant .
#   docker run -p 8000:8000 incident-assistant          # then open http://localhost:8000/
# The index is built from labels/ at image build; mount another at /app/index to replace it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false

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
COPY labels ./labels
# Editable: the package keeps finding prompts/ next to it, as in a checkout.
RUN pip install -e ".[${EXTRAS}]"
RUN mkdir -p index data && chown assistant:assistant index data

USER assistant
# Export the bundled MiniLM to ONNX (int8 serves; torch is needed only for this step), then index.
RUN python -m assistant.encoders.export
RUN assistant index build

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["assistant", "serve", "--host", "0.0.0.0", "--port", "8000"]
