"""Configuration packs: ready-made documents under ``metadata/packs/NAME.json``."""

from __future__ import annotations

import json
from pathlib import Path

from metadata.errors import ConfigError, ConfigErrorCode
from metadata.publish import publish, save_draft

PACKS_DIR = Path(__file__).parent / "packs"


def available_packs() -> list[str]:
    return sorted(path.stem for path in PACKS_DIR.glob("*.json"))


def load_pack(name: str) -> dict:
    path = PACKS_DIR / f"{name}.json"
    if name not in available_packs():
        raise ConfigError(
            ConfigErrorCode.PACK_UNKNOWN,
            f"Unknown pack {name!r}; available: {', '.join(available_packs())}.",
        )
    return json.loads(path.read_text())


def apply_pack(tenant, name: str, *, user=None):
    """Publish the pack as the tenant's first version and start the draft from it."""
    document = load_pack(name)
    version = publish(tenant, user=user, document=document, comment=f"pack {name}")
    save_draft(tenant, document, user=user, overwrite=True)
    return version
