"""Summarizers: turn a paper's text into the fields of a Summary (no database access here).

Backends: "extractive" (offline, the paper's own sentences) and "openai" (any OpenAI-compatible
chat-completions endpoint).
"""

from __future__ import annotations

import time

from django.conf import settings

from .base import (
    LlmConfig,
    SummarizerError,
    SummaryInput,
    SummaryResult,
    input_digest,
    validate_fields,
)

BACKENDS = settings.SUMMARIZERS

__all__ = [
    "BACKENDS",
    "LlmConfig",
    "SummarizerError",
    "SummaryInput",
    "SummaryResult",
    "expected_input_digest",
    "input_digest",
    "summarize",
    "validate_fields",
]


def summarize(inp: SummaryInput, backend: str, *, llm: LlmConfig | None = None) -> SummaryResult:
    """Write the summary fields of one paper with the given backend."""
    started = time.monotonic()
    if backend == "extractive":
        from . import extractive

        language, fields, warnings = extractive.summarize(inp)
        digest = input_digest(
            inp, backend=backend, model=extractive.MODEL, prompt_version=extractive.PROMPT_VERSION
        )
        return SummaryResult(
            language=language,
            fields=fields,
            backend=backend,
            model=extractive.MODEL,
            prompt_version=extractive.PROMPT_VERSION,
            input_digest=digest,
            tokens=None,
            duration_ms=round((time.monotonic() - started) * 1000),
            warnings=warnings,
        )
    if backend == "openai":
        from . import llm as llm_backend

        return llm_backend.summarize(inp, llm or LlmConfig.from_settings())
    raise ValueError(f"unknown summarizer backend {backend!r}; expected one of {BACKENDS}")


def expected_input_digest(inp: SummaryInput, backend: str, *, llm: LlmConfig | None = None) -> str:
    """The input digest `summarize` would give now: equal to a stored summary's, nothing changed."""
    if backend == "extractive":
        from . import extractive

        model, prompt_version = extractive.MODEL, extractive.PROMPT_VERSION
    elif backend == "openai":
        from . import llm as llm_backend

        model, prompt_version = (llm or LlmConfig.from_settings()).model, llm_backend.PROMPT_VERSION
    else:
        raise ValueError(f"unknown summarizer backend {backend!r}; expected one of {BACKENDS}")
    return input_digest(inp, backend=backend, model=model, prompt_version=prompt_version)
