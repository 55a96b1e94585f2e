"""One page of a list already read whole, with what ``templates/_pager.html`` reads (the
attributes of Flask-SQLAlchemy's ``Pagination``), for lists sorted in Python."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ListPage:
    everything: Sequence[Any]
    requested: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(len(self.everything) / self.per_page))

    @property
    def page(self) -> int:
        """The page asked for, or the last one when it asked beyond it."""
        return min(max(self.requested, 1), self.pages)

    @property
    def items(self) -> Sequence[Any]:
        start = (self.page - 1) * self.per_page
        return self.everything[start:start + self.per_page]

    @property
    def total(self) -> int:
        return len(self.everything)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1
