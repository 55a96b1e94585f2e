"""Hiroba clustering: Pol.is-faithful opinion groups and statement statistics.

Pure library (NumPy, SciPy, scikit-learn, umap-learn). No web framework, no database.
"""

from .analysis import Analysis, WarmStart, analyze
from .matrix import VoteData
from .polis_export import ExportFormatError, PolisExport, read_export

__all__ = [
    "Analysis",
    "ExportFormatError",
    "PolisExport",
    "VoteData",
    "WarmStart",
    "analyze",
    "read_export",
]
