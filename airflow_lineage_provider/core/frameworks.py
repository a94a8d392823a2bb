"""Regulatory frameworks an approval may name (``--framework``)."""

from __future__ import annotations

FRAMEWORKS = ("eu-ai-act", "gdpr", "hipaa", "internal", "iso-42001", "nist-ai-rmf", "sox", "sr-11-7")
