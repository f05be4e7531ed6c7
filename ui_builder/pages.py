"""What the end-user pages show, from the tenant's layouts and the records service: the
navigation, a list page, a record page. The views only render what these return."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from records.errors import RecordError, RecordErrorCode
from records.service import RecordService
from records.values import all_hold, view_record
from ui_builder import bulk_actions, files
from ui_builder.display import label_of, shown, title_field_of, title_of
from ui_builder.editing import check_updatable
from ui_builder.history import timeline
from ui_builder.listing import ListState, described, filterable
from ui_builder.related import RelatedList, related_list, section_key

PAGE_SIZE = 25


@dataclass
class Column:
    key: str
    label: str
    sort_query: str = ""  # the query string sorting by this column (toggling the direction);
    # empty for a field that cannot be sorted (a file, a long text)
    sorted: str = ""  # "ascending" / "descending" when the list is sorted by it


@dataclass
class Row:
    id: int
    title: str
    cells: list[str]


@dataclass
class ListPage:
    entity: object
    label: str
    columns: list[Column]
    rows: list[Row]
    total: int
    next_cursor: str | None
    search: str
    state: ListState = field(default_factory=ListState)
    filterable: list[dict] = field(default_factory=list)
    conditions: list = field(default_factory=list)  # (condition, its words) of the user's filter
    has_board: bool = False
    has_calendar: bool = False
    can_export: bool = False
    actions: list = field(default_factory=list)  # the bulk actions the user may take
    title_column: Column | None = None  # the records' titles, sortable when a field holds them


@dataclass
class Section:
    label: str
    columns: int
    fields: list[tuple[str, str]] = field(default_factory=list)  # (label, shown value)
    related: RelatedList | None = None


@dataclass
class ApprovalPanel:
    """What the record page offers about approvals: processes to submit to, the pending
    request with what this user may do on it, and the history."""

    processes: list[tuple[str, str]]  # (key, label) the record may be submitted to
    pending: object | None  # the ApprovalRequest waiting, if any
    can_decide: bool
    can_recall: bool
    history: list[tuple[str, str, str, str, str]]  # when, who, action, step, comment


@dataclass
class RecordPage:
    entity: object
    label: str
    plural_label: str
    title: str
    record_id: int
    version: int
    tabs: list[tuple[str, list[Section]]]
    approvals: ApprovalPanel | None = None
    history: list | None = None  # the timeline, for users with view_audit
    warnings: list = field(default_factory=list)  # (text, [(id, title)]): duplicates, conflicts
    may_edit: bool = True  # the user may update it: the page offers its edit form


def may_update(service: RecordService, config, entity, record_id: int) -> bool:
    try:
        check_updatable(service, config, entity, record_id)
    except RecordError:
        return False
    return True


def navigation(service: RecordService) -> list[tuple[str, str]]:
    """(plural key, label) of the entities the user may read, in the configuration's order."""
    config = service.configuration()
    found = []
    for entity in config.entities.values():
        if service.permissions.may_read(config, entity):
            found.append(
                (
                    entity.key,
                    label_of(
                        entity.options.get("plural_label") or entity.options.get("label"),
                        entity.plural_key,
                    ),
                )
            )
    return found


def entity_by_key(service: RecordService, key: str):
    config = service.configuration()
    return config, service.entity(key, config)


def titles_for(service: RecordService, config, entity, rows) -> dict[int, str]:
    """The titles of the records the rows' lookups point at (one query per target entity,
    through the service: what the user may not read stays a bare number)."""
    titles: dict[int, str] = {}
    wanted: dict[str, set[int]] = {}
    for key, field_ in entity.fields.items():
        if field_.options["type"] in ("lookup", "multi_lookup"):
            for row in rows:
                value = row.values.get(key)
                for item in value if isinstance(value, list) else [value]:
                    if item is not None:
                        wanted.setdefault(field_.options["target"], set()).add(item)
    for target, ids in wanted.items():
        try:
            page = service.query(
                target, filter_tree={"field": "id", "op": "in", "value": sorted(ids)}, first=500
            )
        except RecordError:
            continue
        target_entity = config.entities[target]
        for view in page.rows:
            titles[view.id] = title_of(target_entity, view.values, view.id)
    return titles


LOOKUP_MATCHES = 20


def lookup_matches(service: RecordService, entity_key: str, text: str) -> list[tuple[int, str]]:
    """The records of ``entity_key`` the user may read whose title contains ``text`` (all of
    them when it is empty), by title: what a lookup's type-ahead offers."""
    config, entity = entity_by_key(service, entity_key)
    key = title_field_of(entity)
    filter_tree = {"field": key, "op": "contains", "value": text} if key and text else None
    page = service.query(
        entity.key,
        filter_tree=filter_tree,
        order_by=[{"field": key}] if key else [],
        first=LOOKUP_MATCHES,
    )
    return [(view.id, title_of(entity, view.values, view.id)) for view in page.rows]


def list_query(entity, hidden, state: ListState, base_filter, sort) -> dict:
    """The records service's query arguments for a list: the layout's filter and sort with
    the user's conditions, sort and search."""
    searchable = any(f.options.get("searchable") for f in entity.fields.values())
    return {
        "filter_tree": state.filter_tree(entity, hidden, base_filter),
        "order_by": state.order_by(entity, hidden, sort),
        "search": state.search or None if searchable else None,
        "with_total": True,
    }


def matching_ids(service: RecordService, entity_key: str, state: ListState, limit: int):
    """The ids of every record a list shows (all its pages), up to ``limit``."""
    config, entity = entity_by_key(service, entity_key)
    roles = service.permissions.principal.roles
    layout = config.layouts.for_roles(entity.key, "list", roles) if config.layouts else None
    hidden = service.permissions.hidden_fields(config, entity)
    spec = layout.spec if layout is not None else {}
    arguments = list_query(entity, hidden, state, spec.get("filter"), spec.get("sort") or [])
    ids, after = [], None
    while len(ids) < limit:
        page = service.query(entity.key, **arguments, first=min(500, limit - len(ids)), after=after)
        ids += [view.id for view in page.rows]
        if not page.has_next:
            break
        after = page.end_cursor
    return ids


def cell(entity, view, key: str, titles: dict) -> str:
    """A field's value as a page shows it: text, or a file's name linking to its download."""
    field_ = entity.fields[key]
    value = view.values.get(key)
    if field_.options["type"] == "file" and isinstance(value, dict):
        return files.link(entity.key, view.id, key, value)
    return shown(field_, value, titles)


def list_page(
    service: RecordService,
    entity_key: str,
    *,
    state: ListState | None = None,
    after: str | None = None,
) -> ListPage:
    """One page of the list: the layout's columns, its filter and the user's conditions, the
    user's sort or the layout's, the search."""
    state = state or ListState()
    config, entity = entity_by_key(service, entity_key)
    roles = service.permissions.principal.roles
    layout = config.layouts.for_roles(entity.key, "list", roles) if config.layouts else None
    hidden = service.permissions.hidden_fields(config, entity)
    if layout is not None:
        keys = [k for k in layout.spec["columns"] if k in entity.fields and k not in hidden]
        sort = layout.spec.get("sort") or []
        base_filter = layout.spec.get("filter")
        size = layout.spec.get("page_size", PAGE_SIZE)
    else:
        keys = [k for k in entity.fields if k not in hidden][:5]
        sort, base_filter, size = [], None, PAGE_SIZE
    title_key = title_field_of(entity)
    keys = [k for k in keys if k != title_key]  # the title column shows it, as a link
    page = service.query(
        entity.key, **list_query(entity, hidden, state, base_filter, sort), first=size, after=after
    )
    titles = titles_for(service, config, entity, page.rows)
    rows = [
        Row(
            view.id,
            title_of(entity, view.values, view.id),
            [cell(entity, view, k, titles) for k in keys],
        )
        for view in page.rows
    ]
    sorted_key = state.sort.removeprefix("-")

    def column(key: str) -> Column:
        return Column(
            key,
            label_of(entity.fields[key].options.get("label"), key),
            state.sorted_by(key) if entity.fields[key].type.sortable else "",
            ("descending" if state.sort.startswith("-") else "ascending")
            if key == sorted_key
            else "",
        )

    return ListPage(
        entity=entity,
        label=label_of(
            entity.options.get("plural_label") or entity.options.get("label"), entity.plural_key
        ),
        columns=[column(k) for k in keys],
        title_column=column(title_key) if title_key and title_key not in hidden else None,
        rows=rows,
        total=page.total,
        next_cursor=page.end_cursor if page.has_next else None,
        search=state.search,
        state=state,
        filterable=filterable(entity, hidden),
        conditions=described(entity, state.conditions),
        has_board=bool(config.layouts and config.layouts.for_roles(entity.key, "kanban", roles)),
        has_calendar=bool(
            config.layouts and config.layouts.for_roles(entity.key, "calendar", roles)
        ),
        can_export=service.permissions.has(config, "export"),
        actions=[
            {"key": action.key, "label": action.label, **action.inputs(service, config, entity)}
            for action in bulk_actions.available(service, config, entity)
        ],
    )


def record_page(
    service: RecordService,
    entity_key: str,
    record_id: int,
    *,
    posted=None,
    related_errors: dict | None = None,
) -> RecordPage:
    """A record as its form lays it out for the user (sections whose visible_if does not hold
    are left out, related lists of child records); without a form, every field the user may
    read, in one section. ``posted`` and ``related_errors``: an inline save of a related list
    that was refused, drawn again with what the user typed."""
    config, entity = entity_by_key(service, entity_key)
    view = service.get(entity.key, record_id)  # not_found when out of the user's scope
    titles = titles_for(service, config, entity, [view])
    roles = service.permissions.principal.roles
    form = config.layouts.for_roles(entity.key, "form", roles) if config.layouts else None
    record = view_record(entity, view)
    tabs = []
    if form is None:
        section = Section(label="", columns=2)
        for key, field_ in entity.fields.items():
            if key in view.values or key not in service.permissions.hidden_fields(config, entity):
                section.fields.append(
                    (
                        label_of(field_.options.get("label"), key),
                        cell(entity, view, key, titles),
                    )
                )
        tabs.append(("", [section]))
    else:
        for tab_index, tab in enumerate(form.spec["tabs"]):
            sections = []
            for section_index, spec in enumerate(tab["sections"]):
                keys = [e if isinstance(e, str) else e["field"] for e in spec.get("fields", [])]
                rules = [form.rules[k] for k in keys if k in form.rules]
                if keys and rules and not all_hold(rules[0].visible_if, record):
                    continue  # the section (or its tab) is not shown for this record
                section = Section(label=label_of(spec.get("label")), columns=spec.get("columns", 1))
                for key in keys:
                    if key not in view.values and key in service.permissions.hidden_fields(
                        config, entity
                    ):
                        continue
                    rule = form.rules.get(key)
                    if rule is not None and not all_hold(rule.visible_if, record):
                        continue
                    field_ = entity.fields[key]
                    section.fields.append(
                        (
                            label_of(field_.options.get("label"), key),
                            cell(entity, view, key, titles),
                        )
                    )
                if spec.get("related"):
                    key = section_key(tab_index, section_index)
                    section.related = related_list(
                        service,
                        config,
                        view.id,
                        key,
                        spec["related"],
                        posted,
                        (related_errors or {}).get(key),
                    )
                if section.fields or section.related:
                    sections.append(section)
            if sections:
                tabs.append((label_of(tab.get("label")), sections))
    return RecordPage(
        may_edit=may_update(service, config, entity, view.id),
        approvals=approval_panel(service, config, entity, view),
        entity=entity,
        label=label_of(entity.options.get("label"), entity.key),
        plural_label=label_of(
            entity.options.get("plural_label") or entity.options.get("label"), entity.plural_key
        ),
        title=title_of(entity, view.values, view.id),
        record_id=view.id,
        version=view.version,
        tabs=tabs,
        history=timeline(service, config, entity, view.id),
        warnings=record_warnings(service, entity, view),
    )


def record_warnings(service, entity, view) -> list[tuple[str, list[tuple[int, str]]]]:
    """What to tell the user about the record without refusing it: the records that may be
    its duplicates, those it conflicts with (a double-booked meeting), named by title."""
    from records.warnings import warnings_of

    found = []
    for warning in warnings_of(service, entity, view):
        if warning.kind == "duplicate":
            (key,) = warning.fields
            label = label_of(entity.fields[key].options.get("label"), key)
            text = _("Possible duplicates: the same %(field)s") % {"field": label}
        else:
            text = label_of(warning.message) or _("Overlaps with")
        named = [(other.id, title_of(entity, other.values, other.id)) for other in warning.records]
        found.append((text, named))
    return found


def approval_panel(service, config, entity, view) -> ApprovalPanel | None:
    from django.db.models import Q
    from django.utils import formats

    from tenants.context import tenant_context
    from workflows import approvals
    from workflows.models import ApprovalRequest, ApprovalTask

    processes = config.workflows.approvals.get(entity.key, []) if config.workflows else []
    if not processes:
        return None
    user_id = getattr(service.user, "pk", None)
    with tenant_context(service.tenant, user=service.user):
        pending = ApprovalRequest.objects.filter(
            entity=entity.key, record_id=view.id, status=ApprovalRequest.Status.PENDING
        ).first()
        can_decide = bool(
            pending
            and ApprovalTask.objects.filter(
                request=pending, step=pending.step, status=ApprovalTask.Status.PENDING
            )
            .filter(approvals.acting_for(user_id) if user_id else Q(pk=None))
            .exists()
        )
        entries = approvals.history(service, entity.key, view.id)
        emails = {e.user_id: e.user.email for e in entries if e.user_id is not None}
    return ApprovalPanel(
        processes=[(p.key, label_of(p.label, p.key)) for p in processes],
        pending=pending,
        can_decide=can_decide,
        can_recall=bool(pending and pending.submitted_by_id == user_id),
        history=[
            (
                formats.date_format(entry.at, "SHORT_DATETIME_FORMAT"),
                emails.get(entry.user_id, ""),
                entry.action,
                entry.step,
                entry.comment,
            )
            for entry in entries
        ],
    )


@dataclass
class Card:
    id: int
    title: str
    lines: list[str]


@dataclass
class Board:
    entity: object
    label: str
    field: str
    columns: list[tuple[str, str, list[Card]]]  # (option value, label, cards)
    targets: list[tuple[str, str]]  # where a card may be moved: (value, label)


BOARD_CARDS = 200


def board_page(service: RecordService, entity_key: str) -> Board:
    """The entity's kanban board for the user: a column per option of its choice field, the
    user's readable records as cards (the newest BOARD_CARDS)."""
    config, entity = entity_by_key(service, entity_key)
    roles = service.permissions.principal.roles
    layout = config.layouts.for_roles(entity.key, "kanban", roles) if config.layouts else None
    if layout is None:
        raise RecordError(RecordErrorCode.NOT_FOUND, f"{entity.key} has no board.")
    key = layout.spec["field"]
    field_ = entity.fields[key]
    hidden = service.permissions.hidden_fields(config, entity)
    lines = [
        k for k in layout.spec.get("card_fields", []) if k in entity.fields and k not in hidden
    ]
    page = service.query(
        entity.key, order_by=[{"field": "updated_at", "direction": "desc"}], first=BOARD_CARDS
    )
    titles = titles_for(service, config, entity, page.rows)
    options = [
        (o["value"], label_of(o.get("label"), o["value"]))
        for o in field_.options.get("options", [])
        if not o.get("inactive")
    ]
    columns = []
    for value, label in options:
        cards = [
            Card(
                view.id,
                title_of(entity, view.values, view.id),
                [shown(entity.fields[k], view.values.get(k), titles) for k in lines if k != "name"],
            )
            for view in page.rows
            if view.values.get(key) == value
        ]
        columns.append((value, label, cards))
    return Board(
        entity=entity,
        label=label_of(
            entity.options.get("plural_label") or entity.options.get("label"), entity.plural_key
        ),
        field=key,
        columns=columns,
        targets=options,
    )


@dataclass
class Entry:
    id: int
    title: str
    start: object  # datetime or date
    end: object | None
    owner_id: int | None
    time: str  # as shown
    conflict: bool = False


@dataclass
class Calendar:
    entity: object
    label: str
    month: object  # the first day
    previous: str
    next: str
    weeks: list[list[tuple[object, list[Entry]]]]  # Monday-first weeks of (day, entries)


CALENDAR_ENTRIES = 500


def _moment(field_, value):
    import datetime as dt

    if value is None:
        return None
    if field_.options["type"] == "date":
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def calendar_page(service: RecordService, entity_key: str, month: str | None = None) -> Calendar:
    """A month of the entity's calendar layout: each record on the day of its start, and those
    of one owner that overlap in time marked as conflicts."""
    import calendar as months
    import datetime as dt

    from django.utils import formats

    config, entity = entity_by_key(service, entity_key)
    roles = service.permissions.principal.roles
    layout = config.layouts.for_roles(entity.key, "calendar", roles) if config.layouts else None
    if layout is None:
        raise RecordError(RecordErrorCode.NOT_FOUND, f"{entity.key} has no calendar.")
    today = dt.datetime.now(dt.UTC).date()
    try:
        first = dt.date.fromisoformat(f"{month}-01") if month else today.replace(day=1)
    except ValueError:
        first = today.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    start_key, end_key = layout.spec["start_field"], layout.spec.get("end_field")
    start_field = entity.fields[start_key]
    end_field = entity.fields.get(end_key) if end_key else None
    bounds = (
        [first.isoformat(), following.isoformat()]
        if start_field.options["type"] == "date"
        else [f"{first.isoformat()}T00:00:00Z", f"{following.isoformat()}T00:00:00Z"]
    )
    page = service.query(
        entity.key,
        filter_tree={
            "and": [
                {"field": start_key, "op": "gte", "value": bounds[0]},
                {"field": start_key, "op": "lt", "value": bounds[1]},
            ]
        },
        order_by=[{"field": start_key}],
        first=CALENDAR_ENTRIES,
    )
    entries = []
    for view in page.rows:
        start = _moment(start_field, view.values.get(start_key))
        end = _moment(end_field, view.values.get(end_key)) if end_field else None
        shown_time = (
            formats.time_format(dt.datetime.fromisoformat(str(start)).astimezone(), "TIME_FORMAT")
            if isinstance(start, dt.datetime)
            else ""
        )
        entries.append(
            Entry(
                view.id,
                title_of(entity, view.values, view.id),
                start,
                end,
                view.owner_id,
                shown_time,
            )
        )
    mark_conflicts(entries)
    by_day: dict = {}
    for entry in entries:
        day = entry.start.date() if isinstance(entry.start, dt.datetime) else entry.start
        by_day.setdefault(day, []).append(entry)
    weeks = [
        [(day, by_day.get(day, [])) for day in week]
        for week in months.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    ]
    before = (first - dt.timedelta(days=1)).replace(day=1)
    return Calendar(
        entity=entity,
        label=label_of(
            entity.options.get("plural_label") or entity.options.get("label"), entity.plural_key
        ),
        month=first,
        previous=before.strftime("%Y-%m"),
        next=following.strftime("%Y-%m"),
        weeks=weeks,
    )


def mark_conflicts(entries: list[Entry]) -> None:
    """Entries of one owner that overlap: [start, end) intervals, or the same start when an
    entry has no end."""
    by_owner: dict = {}
    for entry in entries:
        by_owner.setdefault(entry.owner_id, []).append(entry)
    for mine in by_owner.values():
        mine.sort(key=lambda e: e.start)
        for index, entry in enumerate(mine):
            for other in mine[index + 1 :]:
                entry_end = entry.end or entry.start
                if other.start < entry_end or other.start == entry.start:
                    entry.conflict = other.conflict = True


EXPORT_ROWS = 100_000


def export_rows(service: RecordService, entity_key: str, *, state: ListState | None = None):
    """The header, then one row per record of the list (its layout's columns), page after
    page; refused unless the user's roles grant ``export``."""
    config, entity = entity_by_key(service, entity_key)
    if not service.permissions.has(config, "export"):
        raise RecordError(RecordErrorCode.PERMISSION_DENIED, "You may not export records.")
    first = list_page(service, entity_key, state=state)
    header = ["id", "name", *[column.label for column in first.columns]]

    def rows():
        yield header
        page, sent = first, 0
        while True:
            for row in page.rows:
                yield [row.id, row.title, *row.cells]
                sent += 1
            if page.next_cursor is None or sent >= EXPORT_ROWS:
                return
            page = list_page(service, entity_key, state=state, after=page.next_cursor)

    return rows()
