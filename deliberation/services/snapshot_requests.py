"""Asking the clustering worker for a new snapshot of a round."""

from __future__ import annotations

from deliberation.models import Round
from deliberation.models._common import utcnow


def request_snapshot(round_: Round) -> None:
    """Mark the round as needing a new clustering run (only if not already marked)."""
    if round_.snapshot_requested_at is None:
        round_.snapshot_requested_at = utcnow()
