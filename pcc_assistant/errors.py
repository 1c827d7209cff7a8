"""Errors a user can act on: they are printed as one line, never as a traceback."""


class PccError(Exception):
    """A failure whose message already says what went wrong and what to do."""


class IndexBusyError(PccError):
    """Another process is writing to the same index."""


class DocumentError(PccError):
    """One input file could not be read; the rest of a batch goes on."""

    def __init__(self, path: str, cause: str) -> None:
        super().__init__(f"{path}: {cause}")
        self.path = path
        self.cause = cause
