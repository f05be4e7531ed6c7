"""The platform's opportunity API written by hand with graphene-django over the baseline models.

What a competent developer would write for the same queries the platform's runtime schema
answers: ``DjangoObjectType`` types over ``BenchOpportunity`` / ``BenchAccount`` named
``Opportunity`` and ``Account``, ids as Relay global ids computed as the platform computes
them, the account joined with ``select_related`` (no query per row), decimals as strings, a
connection with keyset pagination, and a ``createOpportunity`` mutation validated by the
model's ``full_clean`` (the pack's required fields, choices, ranges, defaults, rules and
formulas for the fields modelled). Type, enum and argument names follow the platform's SDL (``python
manage.py graphql_schema --tenant SLUG``) so that the same query text runs on both endpoints.

Row-level security applies as on the platform: the request runs inside the tenant transaction
the middleware opens for the API token's tenant. Import only after ``django.setup()``.
"""

from __future__ import annotations

import base64
import json

import graphene
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from graphene_django import DjangoObjectType
from graphql import GraphQLError
from graphql_relay import from_global_id, to_global_id

from bench.baseline import (
    DEAL_TYPE_CHOICES,
    FORECAST_CHOICES,
    LEAD_SOURCE_CHOICES,
    LOSS_REASON_CHOICES,
    STAGE_CHOICES,
    BenchAccount,
    BenchOpportunity,
    today,
)

DEFAULT_FIRST = 50
MAX_FIRST = 500


class Account(DjangoObjectType):
    class Meta:
        model = BenchAccount
        name = "Account"
        fields = ("id", "name", "region")

    def resolve_id(self, info) -> str:
        return to_global_id("Account", self.pk)


class Opportunity(DjangoObjectType):
    class Meta:
        model = BenchOpportunity
        name = "Opportunity"
        fields = (
            "id",
            "name",
            "account",
            "stage",
            "amount",
            "probability",
            "weighted_amount",
            "open_date",
            "close_date",
            "cycle_days",
            "forecast_category",
            "deal_type",
            "lead_source",
            "loss_reason",
            "quote_count",
            "created_at",
            "updated_at",
        )
        # Choice values as plain strings: the JSON is the platform's ("prospecting").
        convert_choices_to_enum = False

    def resolve_id(self, info) -> str:
        return to_global_id("Opportunity", self.pk)


class PageInfo(graphene.ObjectType):
    has_next_page = graphene.Boolean(required=True)
    has_previous_page = graphene.Boolean(required=True)
    start_cursor = graphene.String()
    end_cursor = graphene.String()


class OpportunityEdge(graphene.ObjectType):
    node = graphene.Field(Opportunity, required=True)
    cursor = graphene.String(required=True)


class OpportunityConnection(graphene.ObjectType):
    edges = graphene.List(graphene.NonNull(OpportunityEdge), required=True)
    page_info = graphene.Field(PageInfo, required=True)


class Direction(graphene.Enum):
    ASC = "asc"
    DESC = "desc"


class OpportunityField(graphene.Enum):
    """Sortable fields, valued by their model attribute."""

    ID = "id"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    NAME = "name"
    ACCOUNT = "account_id"
    STAGE = "stage"
    AMOUNT = "amount"
    PROBABILITY = "probability"
    WEIGHTED_AMOUNT = "weighted_amount"
    OPEN_DATE = "open_date"
    CLOSE_DATE = "close_date"
    CYCLE_DAYS = "cycle_days"
    FORECAST_CATEGORY = "forecast_category"
    DEAL_TYPE = "deal_type"
    LEAD_SOURCE = "lead_source"
    LOSS_REASON = "loss_reason"
    QUOTE_COUNT = "quote_count"


class OpportunityOrderBy(graphene.InputObjectType):
    field = OpportunityField(required=True)
    direction = Direction(default_value=Direction.ASC)


def _value(member):
    """An enum argument's value (graphene hands resolvers the enum member)."""
    return getattr(member, "value", member)


def order_keys(order_by) -> list[tuple[str, bool]]:
    """(attribute, descending) pairs; the id breaks ties in the first key's direction."""
    keys = [
        (_value(item["field"]), _value(item.get("direction")) == "desc") for item in order_by or []
    ]
    if not any(attribute == "id" for attribute, _ in keys):
        keys.append(("id", keys[0][1] if keys else False))
    return keys


def encode_cursor(row, keys) -> str:
    values = [getattr(row, attribute) for attribute, _ in keys]
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode()


def decode_cursor(cursor: str, keys) -> list:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError(cursor)
        fields = [BenchOpportunity._meta.get_field(attribute) for attribute, _ in keys]
        return [
            None if value is None else field.to_python(value)
            for field, value in zip(fields, values, strict=True)
        ]
    except (ValueError, TypeError, ValidationError) as error:
        raise GraphQLError("Invalid cursor for this order.") from error


def _beyond(attribute: str, descending: bool, value) -> Q | None:
    """Rows strictly after ``value`` in one key, PostgreSQL's order: empty values come last
    ascending and first descending."""
    if value is None:
        return Q(**{f"{attribute}__isnull": False}) if descending else None
    if descending:
        return Q(**{f"{attribute}__lt": value})
    return Q(**{f"{attribute}__gt": value}) | Q(**{f"{attribute}__isnull": True})


def after_filter(keys, values) -> Q:
    """The keyset condition: rows after the cursor's row in the order of ``keys``."""
    condition, equal = None, Q()
    for (attribute, descending), value in zip(keys, values, strict=True):
        beyond = _beyond(attribute, descending, value)
        if beyond is not None:
            condition = equal & beyond if condition is None else condition | (equal & beyond)
        equal &= Q(**{f"{attribute}__isnull": True}) if value is None else Q(**{attribute: value})
    return condition if condition is not None else Q(pk__in=[])


def _authenticated(info) -> None:
    request = info.context
    if not request.user.is_authenticated or getattr(request, "tenant", None) is None:
        raise GraphQLError("Send Authorization: Bearer <token>.")


class Query(graphene.ObjectType):
    opportunity = graphene.Field(Opportunity, id=graphene.ID(required=True))
    opportunities = graphene.Field(
        OpportunityConnection,
        required=True,
        first=graphene.Int(),
        after=graphene.String(),
        order_by=graphene.List(graphene.NonNull(OpportunityOrderBy)),
    )

    def resolve_opportunity(root, info, **args):
        _authenticated(info)
        return (
            BenchOpportunity.objects.select_related("account")
            .filter(pk=record_pk(args["id"], "Opportunity"))
            .first()
        )

    def resolve_opportunities(root, info, first=None, after=None, order_by=None):
        _authenticated(info)
        first = DEFAULT_FIRST if first is None else first
        if not 0 <= first <= MAX_FIRST:
            raise GraphQLError(f"first must be between 0 and {MAX_FIRST}.")
        keys = order_keys(order_by)
        queryset = BenchOpportunity.objects.select_related("account")
        if after:
            queryset = queryset.filter(after_filter(keys, decode_cursor(after, keys)))
        ordering = [f"-{attribute}" if descending else attribute for attribute, descending in keys]
        rows = list(queryset.order_by(*ordering)[: first + 1])
        has_next = len(rows) > first
        rows = rows[:first]
        edges = [OpportunityEdge(node=row, cursor=encode_cursor(row, keys)) for row in rows]
        return OpportunityConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=has_next,
                has_previous_page=bool(after),
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )


# -- the create mutation ------------------------------------------------------------------------

OpportunityStage = graphene.Enum("OpportunityStage", [(value, value) for value, _ in STAGE_CHOICES])
OpportunityForecastCategory = graphene.Enum(
    "OpportunityForecastCategory", [(value, value) for value, _ in FORECAST_CHOICES]
)
OpportunityDealType = graphene.Enum(
    "OpportunityDealType", [(value, value) for value, _ in DEAL_TYPE_CHOICES]
)
OpportunityLeadSource = graphene.Enum(
    "OpportunityLeadSource", [(value, value) for value, _ in LEAD_SOURCE_CHOICES]
)
OpportunityLossReason = graphene.Enum(
    "OpportunityLossReason", [(value, value) for value, _ in LOSS_REASON_CHOICES]
)


class OpportunityInput(graphene.InputObjectType):
    name = graphene.String()
    account = graphene.ID()
    stage = OpportunityStage()
    amount = graphene.Decimal()
    probability = graphene.Decimal()
    open_date = graphene.Date()
    close_date = graphene.Date()
    forecast_category = OpportunityForecastCategory()
    deal_type = OpportunityDealType()
    lead_source = OpportunityLeadSource()
    loss_reason = OpportunityLossReason()


class FieldError(graphene.ObjectType):
    field = graphene.String()
    code = graphene.String(required=True)
    message = graphene.String(required=True)


class OpportunityPayload(graphene.ObjectType):
    record = graphene.Field(Opportunity)
    errors = graphene.List(graphene.NonNull(FieldError), required=True)


def record_pk(value, type_name: str) -> int:
    """A primary key from a global id of ``type_name`` or a plain number."""
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    try:
        kind, raw = from_global_id(text)
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise ValueError(f"{value!r} is not an id.") from error
    if kind != type_name or not raw.isdigit():
        raise ValueError(f"{value!r} is not the id of a {type_name}.")
    return int(raw)


def field_errors(error: ValidationError) -> list[FieldError]:
    found = []
    for field, problems in error.error_dict.items():
        for problem in problems:
            message = " ".join(problem.messages)
            found.append(FieldError(field=field, code=problem.code or "invalid", message=message))
    return found


class CreateOpportunity(graphene.Mutation):
    class Arguments:
        input = OpportunityInput(required=True)

    Output = OpportunityPayload

    def mutate(root, info, **args):
        _authenticated(info)
        input_ = args["input"]
        try:
            account_id = record_pk(input_.account, "Account") if input_.account else None
        except ValueError as error:
            return OpportunityPayload(
                errors=[FieldError(field="account", code="invalid_id", message=str(error))]
            )
        now = timezone.now()
        opportunity = BenchOpportunity(
            name=input_.name or "",
            account_id=account_id,
            stage=_value(input_.stage) or "prospecting",
            amount=input_.amount,
            probability=input_.probability,
            # The pack's defaults for what was not given: today (UTC), a new business.
            open_date=input_.open_date or today(),
            close_date=input_.close_date,
            forecast_category=_value(input_.forecast_category),
            deal_type=_value(input_.deal_type) or "new_business",
            lead_source=_value(input_.lead_source),
            loss_reason=_value(input_.loss_reason),
            owner_id=info.context.user.pk,
            created_at=now,
            updated_at=now,
        )
        try:
            opportunity.full_clean()
        except ValidationError as error:
            return OpportunityPayload(errors=field_errors(error))
        opportunity.save()
        return OpportunityPayload(record=opportunity, errors=[])


class Mutation(graphene.ObjectType):
    create_opportunity = CreateOpportunity.Field(required=True)


schema = graphene.Schema(query=Query, mutation=Mutation)
