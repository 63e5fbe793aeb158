"""Nothing reaches a model hub or a telemetry service from this process."""

from __future__ import annotations

import os


def offline_environment() -> None:
    """Make sure no library reaches a model hub or sends telemetry from this process."""
    for var, value in (
        ("HF_HUB_OFFLINE", "1"),
        ("TRANSFORMERS_OFFLINE", "1"),
        ("HF_HUB_DISABLE_TELEMETRY", "1"),
        ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
        ("ANONYMIZED_TELEMETRY", "False"),
        ("TOKENIZERS_PARALLELISM", "false"),
    ):
        os.environ.setdefault(var, value)
