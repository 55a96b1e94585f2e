"""Hiroba clustering: Pol.is-faithful opinion groups and statement statistics.

Pure library (NumPy, SciPy, scikit-learn, umap-learn). No web framework, no database.

The names below load on first use (PEP 562): reading a Pol.is export
(``clustering.polis_export``, plain CSV) then costs no NumPy or scikit-learn import, which
keeps them out of the web processes that only import rounds.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .analysis import Analysis, WarmStart, analyze
    from .matrix import VoteData
    from .polis_export import ExportFormatError, PolisExport, read_export

_WHERE = {
    "Analysis": "analysis",
    "WarmStart": "analysis",
    "analyze": "analysis",
    "VoteData": "matrix",
    "ExportFormatError": "polis_export",
    "PolisExport": "polis_export",
    "read_export": "polis_export",
}

__all__ = [
    "Analysis",
    "ExportFormatError",
    "PolisExport",
    "VoteData",
    "WarmStart",
    "analyze",
    "read_export",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'clustering' has no attribute {name!r}")
    return getattr(import_module(f".{_WHERE[name]}", __name__), name)
