"""Records of one long read kept on disk, so a large partner listing never sits in memory
until the store takes it."""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO

from connectors.records.record import Record


class RecordSpool:
    """The records of one long read, kept in a temporary file in pickled batches.

    A partner listing of a large estate (tens of thousands of GDAP relationships, insight rows)
    would otherwise sit in memory until the store takes it. Iterating reads it back one batch
    at a time; it can be iterated once the read is over, as often as needed.
    """

    def __init__(self, batch: int = 1000) -> None:
        self.batch = batch
        self._buffer: list[Record] = []
        self._file: IO[bytes] | None = None
        self._count = 0

    def append(self, record: Record) -> None:
        self._buffer.append(record)
        self._count += 1
        if len(self._buffer) >= self.batch:
            self._flush()

    def extend(self, records: Iterable[Record]) -> None:
        for record in records:
            self.append(record)

    def _flush(self) -> None:
        if not self._buffer:
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="partnerlink-spool-")  # noqa: SIM115
        self._file.seek(0, 2)
        pickle.dump(self._buffer, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._buffer = []

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Record]:
        self._flush()
        if self._file is None:
            return
        self._file.seek(0)
        while True:
            try:
                batch: list[Record] = pickle.load(self._file)  # noqa: S301 - our own file
            except EOFError:
                return
            yield from batch

    def close(self) -> None:
        self._buffer = []
        if self._file is not None:
            self._file.close()
            self._file = None
