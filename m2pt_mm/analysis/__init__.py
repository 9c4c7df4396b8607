"""Measurements behind the tools of ``tools/analysis/``: speed and memory of M2PT against a
plain ViT (:mod:`.benchmark`)."""
