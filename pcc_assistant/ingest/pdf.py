"""PDF loader (pypdf). It runs inside the isolated parser process, see ``isolation``."""

from __future__ import annotations

import logging
from pathlib import Path

from pcc_assistant.errors import DocumentError
from pcc_assistant.ingest.source import SourceLine, SourceText


class _WarningCollector(logging.Handler):
    """pypdf reports some failures only as log warnings; keep them for the message."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class PdfLoader:
    suffixes: tuple[str, ...] = (".pdf",)
    isolate = True

    def load(self, path: Path, password: str, encoding: str = "") -> SourceText:
        import pypdf
        from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

        name = str(path)
        with path.open("rb") as fh:
            head = fh.read(1024)
        if not head.strip():
            raise DocumentError(name, "empty file: nothing to index")
        if b"%PDF-" not in head:
            raise DocumentError(name, "not a PDF (no %PDF header): check the file type")

        collector = _WarningCollector()
        log = logging.getLogger("pypdf")
        log.addHandler(collector)
        log.propagate = False  # font warnings would otherwise flood the terminal
        try:
            try:
                reader = pypdf.PdfReader(str(path))
                if reader.is_encrypted and not reader.decrypt(password):
                    raise FileNotDecryptedError("wrong password")
                pages = [page.extract_text() or "" for page in reader.pages]
                title = str(reader.metadata.get("/Title") or "") if reader.metadata else ""
            except FileNotDecryptedError as exc:
                raise DocumentError(
                    name, "encrypted: give --password or remove the protection"
                ) from exc
            except DependencyError as exc:
                raise DocumentError(
                    name, f"encrypted with a cipher pypdf cannot open: {exc}"
                ) from exc
            except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as exc:
                raise DocumentError(name, f"broken or truncated PDF ({exc})") from exc
        finally:
            log.removeHandler(collector)

        if not any(p.strip() for p in pages):
            limit = [m for m in collector.messages if "limit" in m.lower()]
            if limit:
                raise DocumentError(
                    name,
                    f"decompression limit exceeded, possibly a decompression bomb ({limit[0]})",
                )
            raise DocumentError(name, "no text layer: scanned pages need OCR first")
        return SourceText(
            pages=tuple(
                tuple(SourceLine(line, number) for line in text.split("\n"))
                for number, text in enumerate(pages, start=1)
            ),
            title_hint=title,
        )
