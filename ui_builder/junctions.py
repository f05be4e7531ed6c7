"""Junction entities, found in the compiled configuration: an entity whose records each link a
record of one entity to a record of another (a campaign member links a contact to a campaign).

An entity J is a junction from X to T when it has a lookup to X and a lookup to another entity
T, both ``on_delete: cascade`` (a row that means nothing without either end goes with it), and
every other field J requires has a default or is computed (a row is made of the pair alone).
Nothing here names an entity: whatever the configuration links this way is found.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Junction:
    entity: str  # J, whose records are the links
    source_field: str  # J's lookup to the records of the list (X)
    target_field: str  # J's lookup to the record they are added to (T)
    target: str  # T


def _links(entity) -> list[tuple[str, str]]:
    """(field, target entity) of the entity's single lookups that cascade, itself excepted."""
    return [
        (key, field_.options["target"])
        for key, field_ in entity.fields.items()
        if field_.options["type"] == "lookup"
        and field_.options.get("on_delete") == "cascade"
        and field_.options["target"] != entity.key
    ]


def _made_of(entity, keys: set[str]) -> bool:
    """Whether a record of the entity needs nothing but the fields ``keys`` to be created."""
    return not any(
        field_.options.get("required") and "default" not in field_.options
        for key, field_ in entity.fields.items()
        if key not in keys and not field_.type.computed
    )


def junctions_from(config, entity_key: str) -> list[Junction]:
    """The junctions linking records of ``entity_key`` to records of another entity, in the
    configuration's order."""
    found = []
    for junction in config.entities.values():
        if junction.key == entity_key:
            continue
        links = _links(junction)
        for source_field, source in links:
            if source != entity_key:
                continue
            for target_field, target in links:
                if target != entity_key and _made_of(junction, {source_field, target_field}):
                    found.append(Junction(junction.key, source_field, target_field, target))
    return found
