"""The release of rag: one place, read by the wheel's metadata, `rag --version` and `rag.__version__`."""

__version__ = "0.1.0"
