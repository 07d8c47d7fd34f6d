"""What every record offers the sync and the store, whatever fact it holds."""

from __future__ import annotations

from typing import ClassVar, Protocol, runtime_checkable


@runtime_checkable
class Record(Protocol):
    """What every record offers the sync and the store."""

    KIND: ClassVar[str]

    @property
    def key(self) -> str: ...

    @property
    def customer_tenant_id(self) -> str | None: ...
