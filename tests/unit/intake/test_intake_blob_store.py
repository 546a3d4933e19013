"""The blob store keeps each file once, under its sha256."""

import asyncio
import hashlib
import io
from pathlib import Path

from smonth_intake.blobs import BlobStore


async def test_a_file_is_kept_under_its_sha256_with_its_size(tmp_path: Path) -> None:
    content = b"%PDF-1.7 a summary report"
    store = BlobStore(tmp_path)

    stored = await store.put(io.BytesIO(content))

    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored.size == len(content)
    assert await asyncio.to_thread(store.path_of(stored.location).read_bytes) == content


async def test_the_same_file_twice_is_kept_once(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)

    first = await store.put(io.BytesIO(b"picture"))
    second = await store.put(io.BytesIO(b"picture"))

    assert first == second
    kept = await asyncio.to_thread(lambda: [p for p in tmp_path.rglob("*") if p.is_file()])
    assert kept == [store.path_of(first.location)]
