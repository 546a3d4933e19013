"""The blob store: uploaded files kept by their sha256 in a folder (BLOB_DIR).

Content-addressed, so a retried upload stores nothing twice and a key never changes meaning; a
file is written under a temporary name and renamed into place, so a reader never sees half of
one. Events carry the key, never the bytes.
"""

import asyncio
import contextlib
import hashlib
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    location: str


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    async def put(self, source: BinaryIO) -> StoredBlob:
        return await asyncio.to_thread(self._put, source)

    def path_of(self, location: str) -> Path:
        return self.root / location

    def _put(self, source: BinaryIO) -> StoredBlob:
        incoming = self.root / "incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        source.seek(0)
        with tempfile.NamedTemporaryFile(dir=incoming, delete=False) as target:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                target.write(chunk)
        sha256 = digest.hexdigest()
        location = f"{sha256[:2]}/{sha256}"
        final = self.root / location
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            os.unlink(target.name)
        else:
            os.replace(target.name, final)
        return StoredBlob(sha256=sha256, size=size, location=location)


async def inspect(source: BinaryIO, head_bytes: int) -> tuple[bytes, list[str]]:
    """The first bytes of a file and, if it is a ZIP container (DOCX), the names inside it."""
    return await asyncio.to_thread(_inspect, source, head_bytes)


def _inspect(source: BinaryIO, head_bytes: int) -> tuple[bytes, list[str]]:
    source.seek(0)
    head = source.read(head_bytes)
    names: list[str] = []
    if head.startswith(b"PK\x03\x04"):
        source.seek(0)
        with contextlib.suppress(zipfile.BadZipFile, OSError, ValueError, EOFError):
            names = zipfile.ZipFile(source).namelist()
    source.seek(0)
    return head, names


def size_of(source: BinaryIO) -> int:
    source.seek(0, os.SEEK_END)
    size = source.tell()
    source.seek(0)
    return size
