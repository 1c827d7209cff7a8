"""The registry of loaders: which loader reads which file."""

from __future__ import annotations

from pathlib import Path

from pcc_assistant.ingest.pdf import PdfLoader
from pcc_assistant.ingest.source import Loader
from pcc_assistant.ingest.text import MarkdownLoader, TextLoader

LOADERS: tuple[Loader, ...] = (PdfLoader(), TextLoader(), MarkdownLoader())


def loader_for(path: Path) -> Loader | None:
    suffix = path.suffix.lower()
    return next((ld for ld in LOADERS if suffix in ld.suffixes), None)


def supported(path: Path) -> bool:
    return loader_for(path) is not None and not path.name.endswith(".meta.toml")
