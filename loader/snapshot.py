"""A load's private copy of the curated files, made by reading each file once.

The streamed load (loader.canonical) keeps every byte it reads here, so that when it has to hand
the dataset to the full checks of loader.dataset, those check the very bytes that were hashed,
not the files again (which may have changed since). Small files stay in memory; past
``IN_MEMORY`` bytes a file goes to an anonymous temporary file, so memory stays flat.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from loader import canonical
from loader.csvfile import IN_MEMORY


class Snapshot:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._copies: dict[str, tempfile.SpooledTemporaryFile] = {}
        self._streams: dict[str, canonical.Stream] = {}

    def stream(self, file_name: str, spec) -> canonical.Stream:
        """Open ``file_name`` for streaming (NotCanonical if it is not a regular file we can open)."""
        handle = canonical.open_regular(self.folder / file_name)
        copy = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)
        self._copies[file_name] = copy
        self._streams[file_name] = stream = canonical.Stream(handle, spec, copy, str(self.folder / file_name))
        return stream

    def digest(self, file_name: str) -> str:
        return self._streams[file_name].digest

    def complete(self, file_names) -> None:
        """Read what is not read yet of every file (those not opened yet are opened now, if they can be)."""
        for stream in self._streams.values():
            stream.drain()
        for name in file_names:
            if name not in self._streams:
                try:
                    self.stream(name, None).drain()
                except canonical.NotCanonical:
                    pass  # missing, a FIFO, ...: loader.dataset says so, from the file itself

    def open(self, file_name: str):
        """The bytes read of ``file_name``, as a binary file at its start (the snapshot keeps it open),
        or None if it was never read (loader.dataset then reads the file itself)."""
        copy = self._copies.get(file_name)
        if copy is None:
            return None
        copy.seek(0)
        return copy

    def close(self) -> None:
        for stream in self._streams.values():
            stream.close()
        for copy in self._copies.values():
            copy.close()
