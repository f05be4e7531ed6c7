"""The generated dataset: tenants on the crm pack, accounts and opportunities written by SQL in
exactly the stored form the field types produce, and the same rows in the baseline tables.

Each tenant's data is generated once and recorded in ``bench_dataset`` with its signature; a
later run with the same profile reuses it. Rows are written by ``INSERT ... SELECT
generate_series(...)`` inside ``tenant_context`` (so row-level security checks them), with a
fixed ``setseed`` so every run generates the same data. Values are realistic rather than
uniform: a log-uniform amount (500 to 500,000, whole tens, so the weighted amount needs no
rounding), the stage mix of a live pipeline, probabilities from the stage, close dates in the
past for closed deals and ahead for open ones, a few empty fields, and accounts of skewed size.
The side tables the reads use are filled too: ``records_reference`` (one row per opportunity's
account: lookup filters go through it) and ``records_uniquevalue`` (the accounts' unique
names). Audit entries are not generated: no scenario reads them.
"""

from __future__ import annotations

import json
import time

from django.db import connection, connections

from bench import baseline
from bench.profiles import GENERATOR_VERSION, Profile
from metadata.packs import adopt_pack_roles
from tenants.context import tenant_context
from tenants.models import Tenant, User
from tenants.services import create_tenant

ADMIN_EMAIL = "bench-admin@bench.example.com"
ADMIN_PASSWORD = "Bench-harness-2025!"  # noqa: S105  (a throw-away local benchmark account)
OPEN_STAGES = ("prospecting", "qualification", "proposal", "negotiation")

META_DDL = "CREATE TABLE IF NOT EXISTS bench_dataset (slug text PRIMARY KEY, signature jsonb)"

ACCOUNTS_SQL = """
INSERT INTO records_record (tenant_id, entity, data, version, owner_id, created_by_id,
    updated_by_id, created_at, updated_at, shared_by_rules)
SELECT crm_current_tenant(), 'account', jsonb_strip_nulls(jsonb_build_object(
    'name', (ARRAY['Acme', 'Globex', 'Initech', 'Umbrella', 'Stark', 'Wayne', 'Hooli',
                   'Soylent', 'Tyrell', 'Cyberdyne', 'Vandelay', 'Wonka'])[1 + n %% 12]
            || ' ' || (ARRAY['Industries', 'Trading', 'Technologies', 'Group', 'Holdings',
                             'Logistics', 'Foods', 'Systems'])[1 + (n / 12) %% 8] || ' ' || n,
    'classification', CASE WHEN r1 < 0.1 THEN 'a' WHEN r1 < 0.4 THEN 'b' ELSE 'c' END,
    'industry', CASE WHEN r2 < 0.08 THEN NULL WHEN r2 < 0.40 THEN 'manufacturing'
                     WHEN r2 < 0.63 THEN 'retail' WHEN r2 < 0.86 THEN 'services'
                     ELSE 'technology' END,
    'region', CASE WHEN r3 < 0.1 THEN NULL
                   ELSE (ARRAY['East China', 'North China', 'South China', 'Central China',
                               'West China'])[1 + floor(r3 * 50)::int %% 5] END,
    'website', CASE WHEN r4 < 0.6 THEN format('https://www.account-%%s.example.com', n) END,
    'credit_limit', CASE WHEN r5 < 0.4 THEN jsonb_build_object(
        'amount', (round(r5 * 500) * 1000)::numeric(18, 2)::text, 'currency', 'CNY') END,
    'blacklisted', r6 < 0.02,
    'open_opportunities', 0)),
    1, %(user)s, %(user)s, %(user)s, created, least(now(), created + r1 * interval '90 days'),
    '{}'
FROM (SELECT n, random() AS r1, random() AS r2, random() AS r3, random() AS r4,
             random() AS r5, random() AS r6, now() - random() * interval '4 years' AS created
      FROM generate_series(1, %(count)s) AS n) AS g
ORDER BY n
"""

OPPORTUNITIES_SQL = """
WITH accounts AS (
    SELECT array_agg(id ORDER BY id) AS ids FROM records_record
    WHERE entity = 'account' AND deleted_at IS NULL
), g AS (
    SELECT n, random() AS r_stage, random() AS r_amount, random() AS r_account,
           random() AS r_date, random() AS r_prob, random() AS r_time, random() AS n_amount,
           random() AS n_prob, random() AS n_date, random() AS n_forecast
    FROM generate_series(1, %(count)s) AS n
), s AS (
    SELECT g.*,
        CASE WHEN r_stage < 0.20 THEN 'prospecting' WHEN r_stage < 0.38 THEN 'qualification'
             WHEN r_stage < 0.53 THEN 'proposal' WHEN r_stage < 0.63 THEN 'negotiation'
             WHEN r_stage < 0.80 THEN 'closed_won' ELSE 'closed_lost' END AS stage,
        accounts.ids[1 + floor(power(r_account, 1.6) * cardinality(accounts.ids))::int]
            AS account,
        now() - r_time * interval '3 years' AS created
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
                  THEN 'omitted' ELSE 'commit' END END AS forecast_category
    FROM s
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
    'close_date', to_char(close_date, 'YYYY-MM-DD'),
    'forecast_category', forecast_category)),
    1, %(user)s, %(user)s, %(user)s, created, least(now(), created + r_date * interval '60 days'),
    '{}'
FROM v ORDER BY n
"""

REFERENCES_SQL = """
INSERT INTO records_reference (tenant_id, source_id, field, target_id)
SELECT tenant_id, id, 'account', (data->>'account')::bigint FROM records_record
WHERE entity = 'opportunity' AND deleted_at IS NULL AND data ? 'account'
"""
UNIQUE_NAMES_SQL = """
INSERT INTO records_uniquevalue (tenant_id, entity, field, value, record_id)
SELECT tenant_id, 'account', 'name', data->>'name', id FROM records_record
WHERE entity = 'account' AND deleted_at IS NULL
"""

# The open_opportunities rollup (children whose stage is not closed), as the platform's rollup
# refresh would leave it: counted in one pass, then written by primary key (a join planned on
# the stale statistics of rows inserted in the same transaction could take minutes).
OPEN_COUNTS_SQL = """
SELECT (data->>'account')::bigint, count(*) FROM records_record
WHERE entity = 'opportunity' AND deleted_at IS NULL
  AND data->>'stage' NOT IN ('closed_won', 'closed_lost')
GROUP BY 1
"""
SET_COUNTS_SQL = """
UPDATE records_record a SET data = a.data || jsonb_build_object('open_opportunities', v.n)
FROM unnest(%s::bigint[], %s::bigint[]) AS v (id, n)
WHERE a.id = v.id AND a.entity = 'account'
"""


def set_open_counts(cursor, account_ids: list[int] | None = None) -> None:
    """Recount the accounts' open opportunities (all accounts that have some, or those given)."""
    cursor.execute(OPEN_COUNTS_SQL)
    counts = dict(cursor.fetchall())
    ids = sorted(counts) if account_ids is None else sorted(account_ids)
    cursor.execute(SET_COUNTS_SQL, [ids, [counts.get(i, 0) for i in ids]])


WIPE_SQL = [
    "DELETE FROM records_reference WHERE tenant_id = crm_current_tenant()",
    "DELETE FROM records_uniquevalue WHERE tenant_id = crm_current_tenant()",
    "DELETE FROM records_auditentry WHERE tenant_id = crm_current_tenant()",
    "DELETE FROM records_record WHERE tenant_id = crm_current_tenant()",
]


def ensure_meta_table() -> None:
    with connections["owner"].cursor() as cursor:
        cursor.execute(META_DDL)


def admin_user() -> User:
    return User.objects.get(email=ADMIN_EMAIL)


def ensure_tenants(profile: Profile, say) -> list[Tenant]:
    tenants, started, created = [], time.perf_counter(), 0
    for index, slug in enumerate(profile.slugs()):
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            tenant = create_tenant(
                slug=slug,
                name=f"Bench company {index:03d}",
                pack="crm",
                admin_email=ADMIN_EMAIL,
                admin_password=ADMIN_PASSWORD,
            )
            created += 1
        elif adopt_pack_roles(tenant, "crm") is not None:
            say(f"{slug}: the crm pack's roles published (the tenant predates roles)")
        tenants.append(tenant)
    say(f"{len(tenants)} tenants ({created} created) in {time.perf_counter() - started:.1f} s")
    return tenants


def signature(accounts: int, opportunities: int) -> dict:
    return {"version": GENERATOR_VERSION, "accounts": accounts, "opportunities": opportunities}


def stored_signature(slug: str) -> dict | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT signature FROM bench_dataset WHERE slug = %s", [slug])
        row = cursor.fetchone()
    if row is None:
        return None
    return json.loads(row[0]) if isinstance(row[0], str) else row[0]


def ensure_data(profile: Profile, tenants: list[Tenant], user: User, say) -> int:
    """Generate what is missing; the number of tenants (re)generated."""
    generated = 0
    for index, tenant in enumerate(tenants):
        accounts, opportunities = profile.sizes(index)
        wanted = signature(accounts, opportunities)
        if stored_signature(tenant.slug) == wanted:
            continue
        started = time.perf_counter()
        big = opportunities >= 10_000
        seed = (index + 1) / (profile.tenants + 1)
        generate(tenant, user, accounts, opportunities, seed, say if big else None)
        generated += 1
        if big or generated % 25 == 0:
            say(
                f"generated {tenant.slug}: {accounts:,} accounts, {opportunities:,} "
                f"opportunities in {time.perf_counter() - started:.1f} s"
            )
    return generated


def generate(
    tenant: Tenant, user: User, accounts: int, opportunities: int, seed: float, say=None
) -> None:
    """Replace the tenant's records and baseline rows by freshly generated ones, atomically."""
    started = time.perf_counter()

    def step(name: str) -> None:
        if say is not None:
            say(f"  {tenant.slug}: {name} ({time.perf_counter() - started:.1f} s)")

    with tenant_context(tenant), connection.cursor() as cursor:
        for statement in WIPE_SQL:
            cursor.execute(statement)
        baseline.wipe(tenant)
        step("wiped")
        cursor.execute("SELECT setseed(%s)", [seed])
        cursor.execute(ACCOUNTS_SQL, {"user": user.pk, "count": accounts})
        cursor.execute(
            OPPORTUNITIES_SQL, {"user": user.pk, "count": opportunities, "open": OPEN_STAGES}
        )
        cursor.execute(REFERENCES_SQL)
        cursor.execute(UNIQUE_NAMES_SQL)
        step("records, references and unique names inserted")
        set_open_counts(cursor)
        step("rollup counts set")
        baseline.fill(tenant)
        step("baseline filled")
        cursor.execute(
            "INSERT INTO bench_dataset (slug, signature) VALUES (%s, %s) "
            "ON CONFLICT (slug) DO UPDATE SET signature = EXCLUDED.signature",
            [tenant.slug, json.dumps(signature(accounts, opportunities))],
        )
    step("committed")
