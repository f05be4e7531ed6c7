"""What publishing a document would do: to integrators, and to the data already stored.

Each item says whether it blocks the publish and which ``--force`` strategy accepts it:

=====================  ==============================================================
strategy               what the consultant accepts
=====================  ==============================================================
``remove-entities``    entities disappear; their records stay until an explicit purge
``remove-fields``      fields disappear; their values stay until an explicit purge
``convert-types``      values are converted in a background job; those that cannot be
                       converted are reported and kept aside
``breaking-api``       the GraphQL schema changes incompatibly for integrators
``accept-violations``  existing records break a new required, unique or validation rule
=====================  ==============================================================

The data part comes from the checks in :data:`data_checks`, which the records engine registers:
each receives the active and the new document and the diff, and returns items with counts and
sample record ids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

STRATEGIES = (
    "remove-entities",
    "remove-fields",
    "convert-types",
    "breaking-api",
    "accept-violations",
)


@dataclass(frozen=True)
class ImpactItem:
    code: str
    path: str
    message: str
    strategy: str
    blocking: bool = True
    breaks_api: bool = False
    count: int | None = None
    sample_ids: list = field(default_factory=list)


DataCheck = Callable[[object, dict | None, dict, dict], list[ImpactItem]]
data_checks: list[DataCheck] = []


def register_data_check(check: DataCheck) -> DataCheck:
    data_checks.append(check)
    return check


def _entity_field_types(document: dict | None) -> dict[str, dict[str, dict]]:
    return {
        e["key"]: {f["key"]: f for f in e.get("fields", [])}
        for e in (document or {}).get("entities", [])
    }


def structural_items(old: dict | None, new: dict, diff: dict) -> list[ImpactItem]:
    if old is None:
        return []
    items: list[ImpactItem] = []
    entities = diff["entities"]
    for key in entities["removed"]:
        items.append(
            ImpactItem(
                "entity_removed",
                key,
                f"the entity {key} is removed: its records stay until purged, "
                "and its GraphQL types and queries disappear",
                "remove-entities",
                breaks_api=True,
            )
        )
    for rename in entities["renamed"]:
        items.append(
            ImpactItem(
                "entity_renamed",
                rename["to"],
                f"the entity {rename['from']} becomes {rename['to']}: its GraphQL names change",
                "breaking-api",
                breaks_api=True,
            )
        )
    new_fields = _entity_field_types(new)
    for entity_key, entry in entities["changed"].items():
        if "plural_key" in entry["options"]:
            change = entry["options"]["plural_key"]
            items.append(
                ImpactItem(
                    "plural_key_changed",
                    entity_key,
                    f"the list query {change['from']} becomes {change['to']}",
                    "breaking-api",
                    breaks_api=True,
                )
            )
        fields = entry["fields"]
        for key in fields["added"]:
            if (
                new_fields[entity_key][key].get("required")
                and "default" not in new_fields[entity_key][key]
            ):
                items.append(
                    ImpactItem(
                        "field_added_required",
                        f"{entity_key}.{key}",
                        f"the new field {entity_key}.{key} is required and has no default: "
                        "integrators must send it, and existing records have no value",
                        "breaking-api",
                        breaks_api=True,
                    )
                )
        for key in fields["removed"]:
            items.append(
                ImpactItem(
                    "field_removed",
                    f"{entity_key}.{key}",
                    f"the field {entity_key}.{key} is removed: its values stay until purged. "
                    f'If it was renamed, add "renamed_from": "{key}" to the new field',
                    "remove-fields",
                    breaks_api=True,
                )
            )
        for rename in fields["renamed"]:
            items.append(
                ImpactItem(
                    "field_renamed",
                    f"{entity_key}.{rename['to']}",
                    f"the field {entity_key}.{rename['from']} becomes "
                    f"{rename['to']}: its values move, its GraphQL name changes",
                    "breaking-api",
                    breaks_api=True,
                )
            )
        for key, options in fields["changed"].items():
            path = f"{entity_key}.{key}"
            if "type" in options:
                items.append(
                    ImpactItem(
                        "type_changed",
                        path,
                        f"{path} changes type from {options['type']['from']} to "
                        f"{options['type']['to']}: values are converted in a background job",
                        "convert-types",
                        breaks_api=True,
                    )
                )
            if "target" in options:
                items.append(
                    ImpactItem(
                        "target_changed",
                        path,
                        f"{path} now points to {options['target']['to']} instead of "
                        f"{options['target']['from']}: existing references cannot follow",
                        "convert-types",
                        breaks_api=True,
                    )
                )
            if options.get("unique", {}).get("to") and not options["unique"].get("from"):
                items.append(
                    ImpactItem(
                        "unique_added",
                        path,
                        f"{path} becomes unique: the data checks report existing duplicates",
                        "accept-violations",
                        blocking=False,
                    )
                )
            if options.get("required", {}).get("to") and not options["required"].get("from"):
                items.append(
                    ImpactItem(
                        "field_now_required",
                        path,
                        f"{path} becomes required: integrators must send it",
                        "breaking-api",
                        breaks_api=True,
                    )
                )
            if "options" in options and new_fields[entity_key][key]["type"] in (
                "choice",
                "multi_choice",
            ):
                before = {o["value"] for o in options["options"]["from"] or []}
                after = {o["value"] for o in options["options"]["to"] or []}
                for value in sorted(before - after):
                    items.append(
                        ImpactItem(
                            "option_removed",
                            path,
                            f"the option {value!r} of {path} is removed (mark it inactive to keep "
                            "existing values valid)",
                            "breaking-api",
                            breaks_api=True,
                        )
                    )
    return items


@dataclass
class ImpactReport:
    items: list[ImpactItem]

    def blocking(self, strategies: set[str] | frozenset[str] = frozenset()) -> list[ImpactItem]:
        return [item for item in self.items if item.blocking and item.strategy not in strategies]

    def as_dict(self) -> dict:
        return {
            "breaking_api": [asdict(i) for i in self.items if i.breaks_api],
            "data": [asdict(i) for i in self.items if i.count is not None],
            "items": [asdict(i) for i in self.items],
            "data_checks": [check.__name__ for check in data_checks],
        }


def impact_report(tenant, old: dict | None, new: dict, diff: dict) -> ImpactReport:
    items = structural_items(old, new, diff)
    for check in data_checks:
        items.extend(check(tenant, old, new, diff))
    return ImpactReport(items)


PublishHook = Callable[[object, dict | None, dict, dict, object], None]
publish_hooks: list[PublishHook] = []


def register_publish_hook(hook: PublishHook) -> PublishHook:
    """Run ``hook(tenant, old, new, diff, version)`` inside the publish transaction (the records
    engine schedules its data migrations there, so they exist exactly when the version does)."""
    if hook not in publish_hooks:
        publish_hooks.append(hook)
    return hook
