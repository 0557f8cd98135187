"""Page numbers for long lists (25 rows a page by default)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.number - 1) * self.size + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.number * self.size)


def paginate(session: Session, statement: Select[Any], page: int, size: int) -> Page[Any]:
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    number = min(max(1, page), max(1, -(-total // size)))
    items = list(session.scalars(statement.limit(size).offset((number - 1) * size)).unique())
    return Page(items=items, number=number, size=size, total=total)
