"""First-load weight of the main pages: the JavaScript and CSS a browser fetches, compressed.

Target (web workspace): the operator console's first load at most 150 KB of JavaScript and
CSS, compressed. Each main page is opened as its user on a fresh SQLite site, through the
real app: the page's `<script src>` and `<link rel="stylesheet">` files are fetched and
their sizes counted raw and gzip-compressed (level 6, what nginx's `gzip on` sends).

    python bench/page_weight.py
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import re
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import RESULTS_DIR, machine_description, pg_dsn
from datagen import migrate_and_bootstrap

TARGET_KB = 150.0
PAGES = [
    ("operator console", "/", "operator"),
    ("unit inbox", "/inbox", "officer"),
    ("dashboard", "/dashboard", "supervisor"),
    ("reports", "/reports", "supervisor"),
    ("administration", "/admin/users", "admin"),
    ("doctor's worklist", "/care", "doctor"),
    ("citizen report form", "/phan-anh", None),
    ("tracking", "/tra-cuu", None),
]
ASSET = re.compile(r'<script[^>]+src="([^"]+)"|<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def measure() -> list[dict[str, Any]]:
    import httpx
    from asgi_lifespan import LifespanManager

    from hotline.app import create_app
    from hotline.auth.service import create_user
    from hotline.db import create_engine, make_sessionmaker
    from hotline.directory.service import create_unit
    from hotline.settings import Settings
    from hotline.site import Site

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/weight.db"
        settings = Settings(database_url=url, var_dir=Path(tmp) / "var", environment="test")
        # The site as `hotline run` sets it up: schema, places, categories.
        await asyncio.to_thread(migrate_and_bootstrap, url)
        engine = create_engine(settings.effective_database_url)
        async with make_sessionmaker(engine, Site.from_settings(settings))() as s, s.begin():
            unit = await create_unit(
                s, code="ubnd-weight", name="UBND phường", unit_type="ward_committee"
            )
            for role in ("operator", "supervisor", "admin", "doctor"):
                await create_user(s, username=role, password=f"{role}-pass-1022", role=role)
            await create_user(
                s,
                username="officer",
                password="officer-pass-1022",
                role="unit_officer",
                unit_id=unit.id,
            )
        await engine.dispose()
        app = create_app(settings)
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            for label, path, who in PAGES:
                async with httpx.AsyncClient(transport=transport, base_url="https://test") as c:
                    if who is not None:
                        form = await c.get("/login")
                        token = CSRF.search(form.text)
                        await c.post(
                            "/login",
                            data={
                                "username": who,
                                "password": f"{who}-pass-1022",
                                "csrf": token.group(1) if token else "",
                            },
                        )
                    page = await c.get(path)
                    page.raise_for_status()
                    assets = []
                    for m in ASSET.finditer(page.text):
                        href = m.group(1) or m.group(2)
                        body = (await c.get(href)).content
                        assets.append(
                            {
                                "href": href,
                                "bytes": len(body),
                                "gzip_bytes": len(gzip.compress(body, 6)),
                            }
                        )
                    gz = sum(a["gzip_bytes"] for a in assets)
                    out.append(
                        {
                            "page": label,
                            "path": path,
                            "html_gzip_bytes": len(gzip.compress(page.content, 6)),
                            "assets": assets,
                            "assets_gzip_kb": round(gz / 1024, 1),
                            "assets_kb": round(sum(a["bytes"] for a in assets) / 1024, 1),
                        }
                    )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--output", type=Path, default=RESULTS_DIR / "page_weight.json")
    args = p.parse_args(argv)
    started = datetime.now(UTC).isoformat()
    pages = asyncio.run(measure())
    console = next(r for r in pages if r["path"] == "/")
    result = {
        "started_at": started,
        "machine": asyncio.run(machine_description(pg_dsn())),
        "target_kb": TARGET_KB,
        "pages": pages,
        "passed": console["assets_gzip_kb"] <= TARGET_KB,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    for r in pages:
        print(f"{r['page']:22} {r['assets_gzip_kb']:7.1f} KB gz ({r['assets_kb']:.1f} KB raw)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
