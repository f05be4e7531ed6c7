"""The generated dataset: tenants on the crm pack, accounts and opportunities written by SQL in
exactly the stored form the records service produces, and the same rows in the baseline tables.

Each tenant's data is generated once and recorded in ``bench_dataset`` with its signature (the
generator's version, the sizes and a digest of the tenant's active configuration); a later run
with the same profile and configuration reuses it. A tenant whose active configuration is not
the current crm pack (``metadata/packs/crm.json``: a tenant made before the pack changed) has
its records removed, the current pack published as its next configuration version and its data
generated again, so no run measures a stale configuration; the run says which version it
measured.

Rows are written by ``INSERT ... SELECT generate_series(...)`` inside ``tenant_context`` (so
row-level security checks them), with a fixed ``setseed`` so every run generates the same data.
Values are realistic rather than uniform: a log-uniform amount (500 to 500,000, whole tens, so
the weighted amount needs no rounding), the stage mix of a live pipeline, probabilities from the
stage, close dates in the past for closed deals and ahead for open ones, an open date (the day
the deal was created) some weeks or months before its close date, a loss reason for every lost
deal, deal types and lead sources, a few empty fields, and accounts of skewed size. What the
service would store besides is written as it would be: the defaults (``deal_type``, the
accounts' ``classification``, flags and statuses), the formulas (``weighted_amount``,
``cycle_days``, the accounts' ``credit_available`` (an amount of money) and
``over_credit_limit``), the autonumber
(``account_number``, with its counter at the number of accounts) and the rollups
(``open_opportunities``, ``won_amount``, zero counts). The side tables the reads use are filled
too: ``records_reference`` (one row per opportunity's account: lookup filters go through it) and
``records_uniquevalue`` (the accounts' unique names and numbers). Audit entries are not
generated: no scenario reads them.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import time

from django.db import connection, connections

from bench import baseline
from bench.profiles import GENERATOR_VERSION, Profile
from metadata.compiled import active_config
from metadata.packs import PACKS_DIR, load_pack
from metadata.publish import active_version, document_of, publish
from tenants.context import tenant_context
from tenants.models import Tenant, User
from tenants.services import create_tenant

PACK = "crm"
ADMIN_EMAIL = "bench-admin@bench.example.com"
ADMIN_PASSWORD = "Bench-harness-2025!"  # noqa: S105  (a throw-away local benchmark account)
OPEN_STAGES = ("prospecting", "qualification", "proposal", "negotiation")
LOSS_REASONS = ("price", "competitor", "no_budget", "no_decision", "product_fit", "timing", "other")
LEAD_SOURCES = tuple(value for value, _ in baseline.LEAD_SOURCE_CHOICES)
CHURN_REASONS = ("price", "competitor", "service", "product", "business_change", "other")

META_DDL = "CREATE TABLE IF NOT EXISTS bench_dataset (slug text PRIMARY KEY, signature jsonb)"

ACCOUNTS_SQL = """
INSERT INTO records_record (tenant_id, entity, data, version, owner_id, created_by_id,
    updated_by_id, created_at, updated_at, shared_by_rules)
SELECT crm_current_tenant(), 'account', jsonb_strip_nulls(jsonb_build_object(
    'name', (ARRAY['Acme', 'Globex', 'Initech', 'Umbrella', 'Stark', 'Wayne', 'Hooli',
                   'Soylent', 'Tyrell', 'Cyberdyne', 'Vandelay', 'Wonka'])[1 + n %% 12]
            || ' ' || (ARRAY['Industries', 'Trading', 'Technologies', 'Group', 'Holdings',
                             'Logistics', 'Foods', 'Systems'])[1 + (n / 12) %% 8] || ' ' || n,
    'account_number', %(number_prefix)s || lpad(n::text, %(number_width)s, '0')
                      || %(number_suffix)s,
    'classification', classification,
    'industry', CASE WHEN r2 < 0.08 THEN NULL WHEN r2 < 0.40 THEN 'manufacturing'
                     WHEN r2 < 0.63 THEN 'retail' WHEN r2 < 0.86 THEN 'services'
                     ELSE 'technology' END,
    'region', CASE WHEN r3 < 0.1 THEN NULL
                   ELSE (ARRAY['East China', 'North China', 'South China', 'Central China',
                               'West China'])[1 + floor(r3 * 50)::int %% 5] END,
    'website', CASE WHEN r4 < 0.6 THEN format('https://www.account-%%s.example.com', n) END,
    'credit_limit', CASE WHEN credit IS NOT NULL
                         THEN jsonb_build_object('amount', credit::text, 'currency', 'CNY') END,
    'arrears', CASE WHEN arrears IS NOT NULL
                    THEN jsonb_build_object('amount', arrears::text, 'currency', 'CNY') END,
    'credit_available', CASE WHEN credit IS NOT NULL THEN jsonb_build_object(
        'amount', (credit - COALESCE(arrears, 0))::numeric(18, 2)::text, 'currency', 'CNY') END,
    'over_credit_limit', arrears > credit,
    'blacklisted', blacklisted,
    'key_account', classification = 'a' AND NOT blacklisted,
    'potential_key_account', classification = 'b' AND r7 < 0.25,
    'lifecycle_status', CASE WHEN r8 < 0.25 THEN 'prospect' WHEN r8 < 0.40 THEN 'exploration'
                             WHEN r8 < 0.55 THEN 'formation' WHEN r8 < 0.90 THEN 'stable'
                             ELSE 'decline' END,
    'churn_status', CASE WHEN r9 < 0.85 THEN 'active' WHEN r9 < 0.93 THEN 'at_risk'
                         WHEN r9 < 0.97 THEN 'churned' ELSE 'won_back' END,
    'churn_reason', CASE WHEN r9 >= 0.93 AND r9 < 0.97
                         THEN (%(churn_reasons)s::text[])[1 + floor(r7 * 6)::int] END,
    'open_opportunities', 0,
    'order_count', 0,
    'open_cases', 0,
    'follow_up_count', 0)),
    1, %(user)s, %(user)s, %(user)s, created, least(now(), created + r1 * interval '90 days'),
    '{}'
FROM (SELECT g.*,
             CASE WHEN r1 < 0.1 THEN 'a' WHEN r1 < 0.4 THEN 'b' ELSE 'c' END AS classification,
             CASE WHEN r5 < 0.4 THEN (round(r5 * 500) * 1000)::numeric(18, 2) END AS credit,
             CASE WHEN r7 < 0.3 THEN (round(r7 * 1000) * 100)::numeric(16, 2) END AS arrears,
             r6 < 0.02 AS blacklisted
      FROM (SELECT n, random() AS r1, random() AS r2, random() AS r3, random() AS r4,
                   random() AS r5, random() AS r6, random() AS r7, random() AS r8,
                   random() AS r9, now() - random() * interval '4 years' AS created
            FROM generate_series(1, %(count)s) AS n) AS g) AS a
ORDER BY n
"""

# Closed deals close between 2023-01-01 and mid 2026, open ones from 2025-06-01 on; a deal was
# opened (created, and its open_date, the UTC day, as the service's "now" default gives it) 7 to
# 367 days before its close date, and never after now.
OPPORTUNITIES_SQL = """
WITH accounts AS (
    SELECT array_agg(id ORDER BY id) AS ids FROM records_record
    WHERE entity = 'account' AND deleted_at IS NULL
), g AS (
    SELECT n, random() AS r_stage, random() AS r_amount, random() AS r_account,
           random() AS r_date, random() AS r_prob, random() AS r_time, random() AS n_amount,
           random() AS n_prob, random() AS n_date, random() AS n_forecast, random() AS r_kind,
           random() AS r_source, random() AS r_reason
    FROM generate_series(1, %(count)s) AS n
), s AS (
    SELECT g.*,
        CASE WHEN r_stage < 0.20 THEN 'prospecting' WHEN r_stage < 0.38 THEN 'qualification'
             WHEN r_stage < 0.53 THEN 'proposal' WHEN r_stage < 0.63 THEN 'negotiation'
             WHEN r_stage < 0.80 THEN 'closed_won' ELSE 'closed_lost' END AS stage,
        accounts.ids[1 + floor(power(r_account, 1.6) * cardinality(accounts.ids))::int]
            AS account
    FROM g CROSS JOIN accounts
), v AS (
    SELECT s.*,
        CASE WHEN stage <> 'closed_won' AND n_amount < 0.04 THEN NULL
             ELSE round((500 * power(1000, r_amount))::numeric, -1) END AS amount,
        CASE WHEN n_prob < 0.05 THEN NULL
             ELSE greatest(0, least(100,
                CASE stage WHEN 'prospecting' THEN 10 WHEN 'qualification' THEN 25
                           WHEN 'proposal' THEN 60 WHEN 'negotiation' THEN 80
                           WHEN 'closed_won' THEN 100 ELSE 0 END
                + CASE WHEN stage IN %(open)s AND r_prob < 0.3
                       THEN (floor(r_prob * 100)::int %% 5 - 2) * 5 ELSE 0 END)) END
            AS probability,
        CASE WHEN n_date < 0.02 THEN NULL
             WHEN stage IN %(open)s THEN date '2025-06-01' + floor(r_date * 944)::int
             ELSE date '2023-01-01' + floor(r_date * 1277)::int END AS close_date,
        CASE WHEN n_forecast < 0.1 THEN NULL
             ELSE CASE stage WHEN 'prospecting' THEN 'pipeline' WHEN 'qualification'
                  THEN 'pipeline' WHEN 'proposal' THEN 'best_case' WHEN 'closed_lost'
                  THEN 'omitted' ELSE 'commit' END END AS forecast_category,
        CASE WHEN r_kind < 0.60 THEN 'new_business' WHEN r_kind < 0.75 THEN 'upsell'
             WHEN r_kind < 0.85 THEN 'cross_sell' ELSE 'renewal' END AS deal_type,
        CASE WHEN r_source < 0.3 THEN NULL
             ELSE (%(lead_sources)s::text[])[1 + floor(r_source * 1000)::int %% 10] END
            AS lead_source,
        CASE WHEN stage = 'closed_lost'
             THEN (%(loss_reasons)s::text[])[1 + floor(power(r_reason, 1.5) * 7)::int] END
            AS loss_reason
    FROM s
), c AS (
    SELECT v.*,
        CASE WHEN close_date IS NULL THEN now() - r_time * interval '3 years'
             ELSE least(now() - r_time * interval '90 days',
                        (close_date - (7 + floor(power(r_time, 2) * 361))::int)::timestamp
                            AT TIME ZONE 'UTC'
                        + (r_time * 977 - floor(r_time * 977)) * interval '1 day') END
            AS created
    FROM v
), w AS (
    SELECT c.*, (created AT TIME ZONE 'UTC')::date AS open_date FROM c
)
INSERT INTO records_record (tenant_id, entity, data, version, owner_id, created_by_id,
    updated_by_id, created_at, updated_at, shared_by_rules)
SELECT crm_current_tenant(), 'opportunity', jsonb_strip_nulls(jsonb_build_object(
    'name', (ARRAY['ERP rollout', 'CRM licences', 'Support renewal', 'Hardware refresh',
                   'Consulting project', 'Cloud migration', 'Training package',
                   'Expansion deal', 'Data platform', 'Security audit'])[1 + n %% 10]
            || ' #' || n,
    'account', account,
    'stage', stage,
    'amount', amount::numeric(16, 2)::text,
    'probability', probability::numeric(5, 2)::text,
    'weighted_amount', round(amount * probability / 100, 2)::numeric(16, 2)::text,
    'open_date', to_char(open_date, 'YYYY-MM-DD'),
    'close_date', to_char(close_date, 'YYYY-MM-DD'),
    'cycle_days', close_date - open_date,
    'forecast_category', forecast_category,
    'deal_type', deal_type,
    'lead_source', lead_source,
    'loss_reason', loss_reason,
    'quote_count', 0)),
    1, %(user)s, %(user)s, %(user)s, created, least(now(), created + r_date * interval '60 days'),
    '{}'
FROM w ORDER BY n
"""

REFERENCES_SQL = """
INSERT INTO records_reference (tenant_id, source_id, field, target_id)
SELECT tenant_id, id, 'account', (data->>'account')::bigint FROM records_record
WHERE entity = 'opportunity' AND deleted_at IS NULL AND data ? 'account'
"""
UNIQUE_VALUES_SQL = """
INSERT INTO records_uniquevalue (tenant_id, entity, field, value, record_id)
SELECT tenant_id, 'account', f.field, data->>f.field, id
FROM records_record CROSS JOIN unnest(%(fields)s::text[]) AS f (field)
WHERE entity = 'account' AND deleted_at IS NULL AND data ? f.field
"""
COUNTER_SQL = """
INSERT INTO records_counter (tenant_id, entity, field, period, value)
VALUES (crm_current_tenant(), 'account', %(number_field)s, '', %(count)s)
"""

# The accounts' rollups over their opportunities, as the platform's refresh leaves them:
# open_opportunities (children whose stage is not closed; 0 without any) and won_amount (the
# sum of the won ones' amounts; absent without any). Computed in one pass, then written by
# primary key (a join planned on the stale statistics of rows inserted in the same transaction
# could take minutes).
ROLLUPS_SQL = """
SELECT (data->>'account')::bigint,
       count(*) FILTER (WHERE data->>'stage' NOT IN ('closed_won', 'closed_lost')),
       sum((data->>'amount')::numeric) FILTER (WHERE data->>'stage' = 'closed_won')
FROM records_record
WHERE entity = 'opportunity' AND deleted_at IS NULL AND data ? 'account'
GROUP BY 1
"""
SET_ROLLUPS_SQL = """
UPDATE records_record a SET data = (a.data - 'won_amount') || jsonb_strip_nulls(
    jsonb_build_object('open_opportunities', v.open, 'won_amount', v.won::numeric(18, 2)::text))
FROM unnest(%s::bigint[], %s::bigint[], %s::numeric[]) AS v (id, open, won)
WHERE a.id = v.id AND a.entity = 'account'
"""
ROLLUP_FIELDS = ("open_opportunities", "won_amount")


def account_rollups(cursor) -> dict[int, tuple[int, str | None]]:
    """What the accounts' rollups should hold, for the accounts with opportunities:
    id -> (open_opportunities, won_amount as stored)."""
    cursor.execute(ROLLUPS_SQL)
    return {
        account: (open_count, None if won is None else f"{won:.2f}")
        for account, open_count, won in cursor.fetchall()
    }


def set_account_rollups(cursor, account_ids=None) -> None:
    """Recompute the accounts' opportunity rollups (of all accounts that have opportunities,
    or of those given)."""
    wanted = account_rollups(cursor)
    ids = sorted(wanted) if account_ids is None else sorted(account_ids)
    values = [wanted.get(i, (0, None)) for i in ids]
    cursor.execute(
        SET_ROLLUPS_SQL, [ids, [open_count for open_count, _ in values], [w for _, w in values]]
    )


def stale_rollups(cursor, account_ids: list[int]) -> list[int]:
    """The accounts among ``account_ids`` whose stored rollups differ from their opportunities."""
    wanted = account_rollups(cursor)
    cursor.execute(
        "SELECT id, COALESCE((data->>'open_opportunities')::int, 0), data->>'won_amount' "
        "FROM records_record WHERE entity = 'account' AND id = ANY(%s)",
        [list(account_ids)],
    )
    return [
        account
        for account, open_count, won in cursor.fetchall()
        if (open_count, won) != wanted.get(account, (0, None))
    ]


AUTONUMBER = re.compile(r"^([^{}]*)\{(0+)\}([^{}]*)$")


def account_number_format(config) -> tuple[str, dict]:
    """The accounts' autonumber field and its pattern as SQL parameters (prefix, width,
    suffix). The generator knows plain counters (``AC-{000000}``): a pattern with a date in it
    would need the creation dates, and stops the run rather than guess."""
    fields = [
        field
        for field in config.entities["account"].fields.values()
        if field.options["type"] == "autonumber"
    ]
    if len(fields) != 1:
        raise RuntimeError(
            f"the generator writes one autonumber per account; the pack has {len(fields)}"
        )
    pattern = fields[0].options["pattern"]
    found = AUTONUMBER.match(pattern)
    if found is None:
        raise RuntimeError(f"the generator cannot number accounts by the pattern {pattern!r}")
    prefix, zeros, suffix = found.groups()
    return fields[0].key, {
        "number_prefix": prefix,
        "number_width": len(zeros),
        "number_suffix": suffix,
    }


# Everything of the tenant's records, so a regeneration (or a new configuration) starts empty.
WIPE_SQL = [
    "DELETE FROM workflows_actionrun WHERE tenant_id = crm_current_tenant()",
    "DELETE FROM workflows_outboxevent WHERE tenant_id = crm_current_tenant()",
    "DELETE FROM records_reference WHERE tenant_id = crm_current_tenant()",
    "DELETE FROM records_uniquevalue WHERE tenant_id = crm_current_tenant()",
    "DELETE FROM records_recordshare WHERE tenant_id = crm_current_tenant()",
    "DELETE FROM records_auditentry WHERE tenant_id = crm_current_tenant()",
    "DELETE FROM records_counter WHERE tenant_id = crm_current_tenant()",
    "DELETE FROM records_record WHERE tenant_id = crm_current_tenant()",
]


# -- the configuration --------------------------------------------------------------------------


def digest(document: dict) -> str:
    """A short fingerprint of a configuration document (key order does not matter)."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def pack_file_state() -> str:
    """The pack file measured: its last commit, "+uncommitted" when the working tree differs."""
    root = PACKS_DIR.parent.parent
    path = str((PACKS_DIR / f"{PACK}.json").relative_to(root))
    try:
        commit = subprocess.run(
            ["git", "log", "-1", "--format=%h", "--", path],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", path], cwd=root, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return path
    return f"{path} at {commit or '?'}" + (" +uncommitted changes" if changed else "")


def config_facts(tenant) -> dict:
    """Which configuration the tenant's records were measured under."""
    version = active_version(tenant)
    document = document_of(version)
    return {
        "pack": PACK,
        "pack_file": pack_file_state(),
        "config_version": version.number,
        "config_published_at": version.published_at.isoformat(timespec="seconds"),
        "config_digest": digest(document),
        "config_is_current_pack": document == load_pack(PACK),
    }


def describe_config(facts: dict) -> str:
    return (
        f"configuration: the {facts['pack']} pack ({facts['pack_file']}), version "
        f"{facts['config_version']} of the read tenant, digest {facts['config_digest']}"
    )


def bring_up_to_date(tenant, wanted: dict, say, before_publish=None) -> int | None:
    """Publish ``wanted`` as the tenant's next version when its active configuration differs
    (a tenant made from an older pack); ``before_publish`` first removes the data made under the
    old one. The new version number, or None when the configuration was current."""
    from records.schema_jobs import run_pending

    active = active_version(tenant)
    if active is not None and document_of(active) == wanted:
        return None
    if before_publish is not None:
        before_publish()
    version = publish(
        tenant, document=wanted, comment=f"bench: the current {PACK} pack ({digest(wanted)})"
    )
    # No worker serves the benchmark's publishes (their tasks go to an in-memory broker): run
    # the schema jobs the publish scheduled here, as the worker would.
    run_pending(tenant.pk)
    say(
        f"{tenant.slug}: configuration version {active.number if active else '-'} was not the "
        f"current {PACK} pack; its records were removed and the pack published as version "
        f"{version.number}"
    )
    return version.number


def wipe(tenant) -> None:
    """Remove the tenant's records, their side tables and baseline rows, and its signature."""
    with tenant_context(tenant), connection.cursor() as cursor:
        for statement in WIPE_SQL:
            cursor.execute(statement)
        cursor.execute("DELETE FROM bench_dataset WHERE slug = %s", [tenant.slug])
    baseline.wipe(tenant)


def ensure_meta_table() -> None:
    with connections["owner"].cursor() as cursor:
        cursor.execute(META_DDL)


def admin_user() -> User:
    return User.objects.get(email=ADMIN_EMAIL)


def ensure_tenants(profile: Profile, say) -> list[Tenant]:
    """The profile's tenants, each on the current crm pack: missing ones are created, those
    whose configuration is older are brought up to date (their data is generated again)."""
    tenants, started, created, updated = [], time.perf_counter(), 0, 0
    pack = load_pack(PACK)
    for index, slug in enumerate(profile.slugs()):
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            tenant = create_tenant(
                slug=slug,
                name=f"Bench company {index:03d}",
                pack=PACK,
                admin_email=ADMIN_EMAIL,
                admin_password=ADMIN_PASSWORD,
            )
            created += 1
        elif bring_up_to_date(tenant, pack, say, lambda t=tenant: wipe(t)) is not None:
            updated += 1
        tenants.append(tenant)
    say(
        f"{len(tenants)} tenants ({created} created, {updated} brought to the current "
        f"{PACK} pack {digest(pack)}) in {time.perf_counter() - started:.1f} s"
    )
    return tenants


def generator_digest() -> str:
    """A fingerprint of the statements that generate the data: editing them regenerates it,
    even when GENERATOR_VERSION was not bumped."""
    text = "\n".join(
        [ACCOUNTS_SQL, OPPORTUNITIES_SQL, REFERENCES_SQL, UNIQUE_VALUES_SQL, COUNTER_SQL]
        + [ROLLUPS_SQL, SET_ROLLUPS_SQL, baseline.FILL_ACCOUNTS, baseline.FILL_OPPORTUNITIES]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def signature(accounts: int, opportunities: int, config: str) -> dict:
    return {
        "version": GENERATOR_VERSION,
        "generator": generator_digest(),
        "accounts": accounts,
        "opportunities": opportunities,
        "config": config,
    }


def stored_signature(slug: str) -> dict | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT signature FROM bench_dataset WHERE slug = %s", [slug])
        row = cursor.fetchone()
    if row is None:
        return None
    return json.loads(row[0]) if isinstance(row[0], str) else row[0]


def ensure_data(profile: Profile, tenants: list[Tenant], user: User, say) -> int:
    """Generate what is missing or was generated by another generator version or under
    another configuration; the number of tenants (re)generated."""
    generated = 0
    for index, tenant in enumerate(tenants):
        accounts, opportunities = profile.sizes(index)
        wanted = signature(accounts, opportunities, digest(document_of(active_version(tenant))))
        stored = stored_signature(tenant.slug)
        if stored == wanted:
            continue
        if stored is not None and index == 0:
            changed = sorted(k for k in wanted if stored.get(k) != wanted[k])
            say(f"{tenant.slug}: generated data is stale ({', '.join(changed)} changed)")
        started = time.perf_counter()
        big = opportunities >= 10_000
        seed = (index + 1) / (profile.tenants + 1)
        generate(tenant, user, accounts, opportunities, seed, wanted, say if big else None)
        generated += 1
        if big or generated % 25 == 0:
            say(
                f"generated {tenant.slug}: {accounts:,} accounts, {opportunities:,} "
                f"opportunities in {time.perf_counter() - started:.1f} s"
            )
    return generated


def generate(
    tenant: Tenant,
    user: User,
    accounts: int,
    opportunities: int,
    seed: float,
    wanted_signature: dict,
    say=None,
) -> None:
    """Replace the tenant's records and baseline rows by freshly generated ones, atomically."""
    started = time.perf_counter()

    def step(name: str) -> None:
        if say is not None:
            say(f"  {tenant.slug}: {name} ({time.perf_counter() - started:.1f} s)")

    config = active_config(tenant)
    number_field, number_format = account_number_format(config)
    unique = [
        key for key, f in config.entities["account"].fields.items() if f.options.get("unique")
    ]
    with tenant_context(tenant), connection.cursor() as cursor:
        for statement in WIPE_SQL:
            cursor.execute(statement)
        baseline.wipe(tenant)
        step("wiped")
        cursor.execute("SELECT setseed(%s)", [seed])
        cursor.execute(
            ACCOUNTS_SQL,
            {
                "user": user.pk,
                "count": accounts,
                "churn_reasons": list(CHURN_REASONS),
                **number_format,
            },
        )
        cursor.execute(
            OPPORTUNITIES_SQL,
            {
                "user": user.pk,
                "count": opportunities,
                "open": OPEN_STAGES,
                "lead_sources": list(LEAD_SOURCES),
                "loss_reasons": list(LOSS_REASONS),
            },
        )
        cursor.execute(REFERENCES_SQL)
        cursor.execute(UNIQUE_VALUES_SQL, {"fields": unique})
        cursor.execute(COUNTER_SQL, {"number_field": number_field, "count": accounts})
        step("records, references, unique values and the account number counter inserted")
        set_account_rollups(cursor)
        step("rollups set")
        baseline.fill(tenant)
        step("baseline filled")
        cursor.execute(
            "INSERT INTO bench_dataset (slug, signature) VALUES (%s, %s) "
            "ON CONFLICT (slug) DO UPDATE SET signature = EXCLUDED.signature",
            [tenant.slug, json.dumps(wanted_signature)],
        )
    step("committed")
