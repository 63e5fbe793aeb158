"""A legal reference assistant on the non-punishment principle, answering from a Chroma index."""

__version__ = "0.1.0"
