"""Domain errors of ingestion. The CLI turns them into one-line messages and exit codes."""


class IngestError(Exception):
    """Base class: something about the corpus or the index is wrong."""


class SkippedFile(IngestError):
    """A file that cannot be ingested; the message is the one-line reason shown to the user."""


class UnsupportedFormat(SkippedFile):
    pass


class CorruptFile(SkippedFile):
    pass


class EmptyDocument(SkippedFile):
    pass


class ManifestError(IngestError):
    pass


class IndexNotReady(IngestError):
    """The index is missing or inconsistent; run `coalition ingest`."""


class TooLarge(SkippedFile):
    """Over a size limit (the file itself, or what a zipped format decompresses to)."""
