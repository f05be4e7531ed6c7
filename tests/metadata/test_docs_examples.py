"""Every whole configuration document shown in docs/config-format.md publishes: the examples
consultants copy stay true to the JSON Schema and the meaning checks."""

import json
import re
from pathlib import Path

from metadata.semantics import validate_document

DOC = Path(__file__).resolve().parents[2] / "docs" / "config-format.md"


def documents() -> list[dict]:
    found = []
    for block in re.findall(r"```json\n(.*?)```", DOC.read_text(), re.S):
        try:
            value = json.loads(block)
        except ValueError:
            continue  # fragments of a document, shown alone
        if isinstance(value, dict) and value.get("format") == 1:
            found.append(value)
    return found


def test_the_documented_configurations_are_valid():
    examples = documents()
    assert len(examples) >= 2
    for document in examples:
        assert validate_document(document) == []
