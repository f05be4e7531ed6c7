"""Configuration packs: ready-made documents under ``metadata/packs/NAME.json``."""

from __future__ import annotations

import copy
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


def adopt_pack_roles(tenant, name: str, *, user=None):
    """Publish the active configuration with the pack's roles it lacks (by key) added: the
    upgrade path for tenants whose configuration predates roles, where nobody has access.
    None when nothing was missing. The draft is left alone."""
    from metadata.publish import active_version, document_of

    active = active_version(tenant)
    document = copy.deepcopy(document_of(active))
    have = {role["key"] for role in document.get("roles", [])}
    entities = {entity["key"] for entity in document["entities"]}
    added = []
    for role in load_pack(name).get("roles", []):
        if role["key"] in have:
            continue
        role = copy.deepcopy(role)
        # Only the entities this configuration has (a consultant may have removed some).
        role["entities"] = {
            key: access
            for key, access in (role.get("entities") or {}).items()
            if key == "*" or key in entities
        }
        added.append(role)
    if not added:
        return None
    document["roles"] = [*document.get("roles", []), *added]
    keys = ", ".join(role["key"] for role in added)
    return publish(tenant, user=user, document=document, comment=f"roles from pack {name}: {keys}")
