"""B1's baseline: a bare FastAPI endpoint doing one asyncpg INSERT, served by uvicorn with the
services' own settings (smonth_shared.entrypoint). `python -m bench.bare PORT DATABASE_URL`."""

import contextlib
import sys
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import asyncpg
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

TABLE = (
    "CREATE TABLE IF NOT EXISTS bare_tips (id uuid PRIMARY KEY, province text NOT NULL,"
    " description text NOT NULL, received_at timestamptz NOT NULL DEFAULT now())"
)


def build(dsn: str) -> FastAPI:
    state: dict[str, asyncpg.Pool] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=10)
        assert pool is not None
        await pool.execute(TABLE)
        state["pool"] = pool
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/tips", status_code=202)
    async def tip(body: dict[str, Any]) -> JSONResponse:
        tip_id = uuid4()
        await state["pool"].execute(
            "INSERT INTO bare_tips (id, province, description) VALUES ($1, $2, $3)",
            tip_id, body["province"], body["description"],
        )  # fmt: skip
        return JSONResponse({"id": str(tip_id)}, status_code=202)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


if __name__ == "__main__":
    port, dsn = int(sys.argv[1]), sys.argv[2]
    uvicorn.run(build(dsn), host="127.0.0.1", port=port, log_config=None, access_log=False,
                timeout_graceful_shutdown=10)  # fmt: skip
