import copy
import json

import pytest

from metadata.packs import PACKS_DIR

MINIMAL = {
    "format": 1,
    "locales": ["en", "zh-Hans"],
    "entities": [
        {
            "key": "account",
            "plural_key": "accounts",
            "label": {"en": "Account", "zh-Hans": "客户"},
            "fields": [
                {
                    "key": "name",
                    "type": "text",
                    "label": {"en": "Name", "zh-Hans": "名称"},
                    "required": True,
                },
                {"key": "parent", "type": "lookup", "target": "account", "on_delete": "set_null"},
                {"key": "credit_limit", "type": "decimal"},
            ],
            "validations": [
                {
                    "key": "credit_ok",
                    "rule": "record.credit_limit >= 0.0",
                    "message": {
                        "en": "Credit limit cannot be negative",
                        "zh-Hans": "信用额度不能为负",
                    },
                    "fields": ["credit_limit"],
                },
            ],
        }
    ],
    "roles": [],
    "layouts": [],
    "workflows": [],
}


@pytest.fixture
def minimal():
    return copy.deepcopy(MINIMAL)


@pytest.fixture
def starter():
    return json.loads((PACKS_DIR / "starter.json").read_text())


def field(document: dict, entity: str, key: str) -> dict:
    entity_doc = next(e for e in document["entities"] if e["key"] == entity)
    return next(f for f in entity_doc["fields"] if f["key"] == key)
