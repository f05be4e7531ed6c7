"""``python -m bench graphql-http [--quick]``: the platform's runtime GraphQL API against the same
API written by hand with graphene-django (bench/handwritten_api.py), both served by gunicorn.

The dataset is the one ``python -m bench run`` measures (bench/run.py prepares it). One gunicorn
server (2 sync workers, bench/http_settings.py) serves both endpoints through the same
middleware: ``/graphql/`` (the platform) and ``/bench/graphql/`` (the hand-written API over the
baseline tables), with the same API token. For each scenario, the same query text is sent to
both, interleaved: warm-up, then latency (sequential requests from one keep-alive client,
alternating the endpoints), then throughput (4 client threads for a fixed time, in blocks
alternating the endpoints). Any GraphQL error stops the run. Records the create scenario made
are removed afterwards on both sides (the platform's through the records service).
"""

from __future__ import annotations

import datetime as dt
import http.client
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from django.db import connection
from graphql_relay import to_global_id

from bench import report
from bench.dataset import describe_config, set_account_rollups, stale_rollups
from bench.profiles import Profile
from bench.run import database_facts, platform_commit, prepare
from bench.scenarios import Bench
from bench.timing import p50, p95
from tenants.context import tenant_context

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
PLATFORM, BASELINE = "/graphql/", "/bench/graphql/"
PREFIX = "bench-http-"
TOKEN_NAME = "bench-graphql-http"
EXECUTION_HEADER = "X-GraphQL-Execution"
LIST_TARGET = 0.5  # issue 6: platform p50 / hand-written p50 for the list query (reported)
CLIENTS = 4
WORKERS = 2

LIST_QUERY = """
query OpportunityList($first: Int, $after: String) {
  opportunities(first: $first, after: $after, orderBy: [{field: CLOSE_DATE, direction: DESC}]) {
    edges {
      cursor
      node {
        id
        name
        stage
        amount
        probability
        weightedAmount
        closeDate
        forecastCategory
        createdAt
        updatedAt
        account { id name region }
      }
    }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
CREATE_MUTATION = """
mutation CreateOpportunity($input: OpportunityInput!) {
  createOpportunity(input: $input) {
    record { id name }
    errors { field code message }
  }
}
"""


@dataclass(frozen=True)
class HttpProfile:
    warmup: int
    iterations: int
    throughput_s: float  # per endpoint and scenario, in two blocks


HTTP_PROFILES = {
    "quick": HttpProfile(warmup=20, iterations=100, throughput_s=3.0),
    "full": HttpProfile(warmup=30, iterations=300, throughput_s=10.0),
}


class GraphQLFailure(RuntimeError):
    pass


class Client:
    """One keep-alive HTTP connection (gunicorn's sync workers close each one after the
    response; http.client then reconnects on the next request, as any client would)."""

    def __init__(self, port: int, token: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    def post(self, path: str, body: bytes) -> tuple[float, dict, str | None]:
        """(milliseconds to the last byte, the decoded answer, the execution header)."""
        started = time.perf_counter()
        self.connection.request("POST", path, body=body, headers=self.headers)
        response = self.connection.getresponse()
        raw = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        header = response.getheader(EXECUTION_HEADER)
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        if response.status != 200 or not isinstance(answer, dict) or answer.get("errors"):
            raise GraphQLFailure(
                f"POST {path} answered {response.status}: {raw[:600].decode(errors='replace')}"
            )
        return elapsed, answer, header

    def close(self) -> None:
        self.connection.close()


def body(query: str, variables: dict) -> bytes:
    return json.dumps({"query": query, "variables": variables}).encode()


# -- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, log, conn_max_age: int = 60, compiled: bool = True) -> subprocess.Popen:
    env = {
        **os.environ,
        # 0: each request opens its own database connection.
        "DATABASE_CONN_MAX_AGE": str(conn_max_age),
        # "0": the platform answers through its resolvers only (api/schema/compiled off).
        "GRAPHQL_COMPILED": "1" if compiled else "0",
        "DJANGO_SETTINGS_MODULE": "bench.http_settings",
        "DATABASE_NAME": os.environ.get("DATABASE_NAME", "crm_bench"),
        "GRAPHQL_RATE_PER_MINUTE": "1000000000",
        "CELERY_BROKER_URL": "memory://",
    }
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "config.wsgi:application",
        "--workers",
        str(WORKERS),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "120",
        "--error-logfile",
        "-",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_until_healthy(server: subprocess.Popen, port: int, log_path: Path, limit_s=90.0) -> None:
    deadline, last = time.monotonic() + limit_s, "no answer"
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = log_path.read_text()[-3000:]
            raise RuntimeError(f"gunicorn exited with {server.returncode}; its log:\n{tail}")
        probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            probe.request("GET", "/healthz")
            response = probe.getresponse()
            last = f"{response.status} {response.read()[:300]!r}"
            if response.status == 200:
                return
        except OSError as error:
            last = str(error)
        finally:
            probe.close()
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not become healthy in {limit_s:.0f} s: {last}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# -- measuring ----------------------------------------------------------------------------------


def latency(client: Client, requests: dict, warmup: int, iterations: int) -> dict:
    """Warm-up, then ``iterations`` requests per endpoint, alternating which goes first.
    ``requests`` maps each endpoint path to a function giving the next request's body."""
    paths = list(requests)
    for _ in range(warmup):
        for path in paths:
            client.post(path, requests[path]())
    times = {path: [] for path in paths}
    headers = {path: Counter() for path in paths}
    for index in range(iterations):
        for path in paths if index % 2 == 0 else reversed(paths):
            elapsed, _, header = client.post(path, requests[path]())
            times[path].append(elapsed)
            headers[path][header] += 1
    return {"times": times, "headers": headers}


def throughput(port: int, token: str, path: str, make_body, seconds: float) -> tuple[int, float]:
    """Requests completed by ``CLIENTS`` threads, each with its own connection, in
    ``seconds``; (count, elapsed seconds)."""
    counts, failures = [0] * CLIENTS, []
    deadline = time.perf_counter() + seconds

    def work(slot: int) -> None:
        client = Client(port, token)
        try:
            while time.perf_counter() < deadline:
                client.post(path, make_body())
                counts[slot] += 1
        except Exception as error:  # noqa: BLE001  (reported by the main thread)
            failures.append(error)
        finally:
            client.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise GraphQLFailure(str(failures[0])) from failures[0]
    return sum(counts), elapsed


def rates(port: int, token: str, requests: dict, seconds: float) -> dict[str, float]:
    """Requests per second per endpoint, in blocks A B B A so that drift hits both alike."""
    paths = list(requests)
    done = {path: [0, 0.0] for path in paths}
    for path in [*paths, *reversed(paths)]:
        count, elapsed = throughput(port, token, path, requests[path], seconds / 2)
        done[path][0] += count
        done[path][1] += elapsed
    return {path: count / elapsed for path, (count, elapsed) in done.items()}


def execution_path(headers: Counter) -> str:
    """The platform's execution path from its response header ("resolvers" without one)."""
    seen = Counter({(value or "resolvers"): n for value, n in headers.items()})
    if len(seen) == 1:
        return next(iter(seen))
    return ", ".join(f"{value} x{n}" for value, n in seen.most_common())


def scenario_entry(name: str, measured: dict, rps: dict, matched: bool) -> dict:
    platform_ms, baseline_ms = measured["times"][PLATFORM], measured["times"][BASELINE]
    platform_p50, baseline_p50 = p50(platform_ms), p50(baseline_ms)
    entry = {
        "scenario": name,
        "platform_p50_ms": round(platform_p50, 2),
        "platform_p95_ms": round(p95(platform_ms), 2),
        "baseline_p50_ms": round(baseline_p50, 2),
        "baseline_p95_ms": round(p95(baseline_ms), 2),
        "ratio": round(platform_p50 / baseline_p50, 2),
        "platform_rps": round(rps[PLATFORM], 1),
        "baseline_rps": round(rps[BASELINE], 1),
        "rps_ratio": round(rps[PLATFORM] / rps[BASELINE], 2),
        "iterations": len(platform_ms),
        "platform_path": execution_path(measured["headers"][PLATFORM]),
        "results_match": matched,
    }
    if name == "graphql_list":
        entry["target"] = f"ratio <= {LIST_TARGET}"
        entry["target_met"] = entry["ratio"] <= LIST_TARGET
    return entry


# -- the two scenarios --------------------------------------------------------------------------


def page_rows(answer: dict) -> tuple[list[tuple], dict]:
    connection_ = answer["data"]["opportunities"]
    rows = [
        (
            edge["node"]["id"],
            edge["node"]["name"],
            edge["node"]["stage"],
            edge["node"]["closeDate"],
            edge["node"]["account"]["name"],
        )
        for edge in connection_["edges"]
    ]
    return rows, connection_["pageInfo"]


def list_results_match(client: Client, say) -> bool:
    """The first two pages (each endpoint following its own cursor) give the same rows."""
    pages = {}
    for path in (PLATFORM, BASELINE):
        _, answer, _ = client.post(path, body(LIST_QUERY, {"first": 50}))
        first, info = page_rows(answer)
        _, answer, _ = client.post(
            path, body(LIST_QUERY, {"first": 50, "after": info["endCursor"]})
        )
        second, _ = page_rows(answer)
        pages[path] = (first, info["hasNextPage"], second)
    if pages[PLATFORM] == pages[BASELINE]:
        return len(pages[PLATFORM][0]) == 50
    platform_rows = pages[PLATFORM][0] + pages[PLATFORM][2]
    baseline_rows = pages[BASELINE][0] + pages[BASELINE][2]
    if len(platform_rows) != len(baseline_rows):
        say(f"list results differ: {len(platform_rows)} rows against {len(baseline_rows)}")
    for index, (mine, theirs) in enumerate(zip(platform_rows, baseline_rows, strict=False)):
        if mine != theirs:
            say(f"list results differ at row {index}: platform {mine}, baseline {theirs}")
            break
    return False


def sample_accounts(bench: Bench, count: int = 50) -> list[int]:
    """Accounts spread over the read tenant, for the creates to point at (one account for all
    of them would queue the platform's rollup updates on one row)."""
    with tenant_context(bench.tenant), connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM records_record WHERE entity = 'account' AND deleted_at IS NULL "
            "ORDER BY id"
        )
        ids = [row[0] for row in cursor.fetchall()]
    step = max(1, len(ids) // count)
    return ids[::step][:count]


def create_bodies(accounts: list[int]) -> dict:
    counter = itertools.count()
    run_id = dt.datetime.now(dt.UTC).strftime("%H%M%S")

    def maker(side: str):
        def make() -> bytes:
            n = next(counter)
            return body(
                CREATE_MUTATION,
                {
                    "input": {
                        "name": f"{PREFIX}{side}-{run_id}-{n}",
                        "account": to_global_id("Account", accounts[n % len(accounts)]),
                        "stage": "proposal",
                        "amount": "120000.00",
                        "probability": "60",
                        "closeDate": "2026-06-30",
                        "forecastCategory": "best_case",
                    }
                },
            )

        return make

    return {PLATFORM: maker("platform"), BASELINE: maker("baseline")}


def create_results_match(client: Client, makers: dict) -> bool:
    """Both endpoints create the record asked for and answer with its name and an id of an
    Opportunity; neither reports an error."""
    for path in (PLATFORM, BASELINE):
        payload = makers[path]()
        sent = json.loads(payload)["variables"]["input"]["name"]
        _, answer, _ = client.post(path, payload)
        result = answer["data"]["createOpportunity"]
        if result["errors"] or result["record"]["name"] != sent:
            return False
    return True


# -- cleaning up --------------------------------------------------------------------------------


def remove_created(bench: Bench, accounts: list[int], say) -> dict:
    """Purge the platform's created records through the records service (delete, then purge:
    rollups and references follow), delete their audit entries, the outbox events and the
    baseline's rows, and check the accounts' rollups came back (repairing them if not)."""
    started = time.perf_counter()
    service = bench.service
    with tenant_context(bench.tenant), connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, deleted_at IS NOT NULL FROM records_record "
            "WHERE entity = 'opportunity' AND data->>'name' LIKE %s",
            [PREFIX + "%"],
        )
        found = cursor.fetchall()
        for record_id, deleted in found:
            if not deleted:
                service.delete("opportunity", record_id)
            service.purge("opportunity", record_id)
        ids = [row[0] for row in found]
        if ids:
            cursor.execute("DELETE FROM records_auditentry WHERE record_id = ANY(%s)", [ids])
        # The outbox events of the creates, deletes and purges (the pack's automations listen
        # to opportunities; no worker delivers them here). The generated data has none.
        cursor.execute("DELETE FROM workflows_actionrun WHERE tenant_id = crm_current_tenant()")
        cursor.execute("DELETE FROM workflows_outboxevent WHERE tenant_id = crm_current_tenant()")
        events = cursor.rowcount
        cursor.execute("DELETE FROM bench_opportunity WHERE name LIKE %s", [PREFIX + "%"])
        baseline_rows = cursor.rowcount
        repaired = 0
        if accounts:
            stale = stale_rollups(cursor, accounts)
            if stale:
                set_account_rollups(cursor, stale)
                repaired = len(stale)
    say(
        f"cleanup: purged {len(ids):,} platform records ({events:,} outbox events), deleted "
        f"{baseline_rows:,} baseline rows in {time.perf_counter() - started:.1f} s"
        + (f"; {repaired} account rollup(s) repaired" if repaired else "")
    )
    return {
        "platform_purged": len(ids),
        "outbox_events_deleted": events,
        "baseline_deleted": baseline_rows,
        "repaired": repaired,
    }


def issue_bench_token(bench: Bench) -> str:
    from api.models import ApiToken
    from api.tokens import issue_token

    with tenant_context(bench.tenant):
        ApiToken.objects.filter(name=TOKEN_NAME).delete()
    return issue_token(bench.tenant, bench.user, name=TOKEN_NAME)


def drop_bench_token(bench: Bench) -> None:
    from api.models import ApiToken

    with tenant_context(bench.tenant):
        ApiToken.objects.filter(name=TOKEN_NAME).delete()


# -- the run ------------------------------------------------------------------------------------


def table(results: list[dict]) -> str:
    lines = [
        "| scenario | platform p50 ms | platform p95 ms | baseline p50 ms | baseline p95 ms "
        "| ratio | platform req/s | baseline req/s | req/s ratio | platform path | notes |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in results:
        notes = []
        if "target" in r:
            notes.append(f"target {r['target']}: {'met' if r['target_met'] else 'NOT met'}")
        if not r["results_match"]:
            notes.append("results differ")
        lines.append(
            f"| {r['scenario']} | {r['platform_p50_ms']:.1f} | {r['platform_p95_ms']:.1f} "
            f"| {r['baseline_p50_ms']:.1f} | {r['baseline_p95_ms']:.1f} | {r['ratio']:.2f} "
            f"| {r['platform_rps']:,.0f} | {r['baseline_rps']:,.0f} | {r['rps_ratio']:.2f} "
            f"| {r['platform_path']} | {'; '.join(notes)} |"
        )
    return "\n".join(lines)


def write_json(results: list[dict], mode: str, conn_max_age: int, compiled: bool) -> Path:
    """``graphql_http.json``, and a copy per mode (and connection reuse) for the README."""
    RESULTS.mkdir(exist_ok=True)
    text = json.dumps(results, indent=2, default=str) + "\n"
    path = RESULTS / "graphql_http.json"
    path.write_text(text)
    suffix = "" if conn_max_age == 60 else f"_conn{conn_max_age}"
    suffix += "" if compiled else "_resolvers"
    (RESULTS / f"graphql_http_{mode}{suffix}.json").write_text(text)
    return path


def run(
    profile: Profile, say=report.say, conn_max_age: int = 60, compiled: bool = True
) -> list[dict]:
    started = time.perf_counter()
    http_profile = HTTP_PROFILES[profile.mode]
    say(f"graphql-http, mode {profile.mode}, database {connection.settings_dict['NAME']}")
    bench, _, facts = prepare(profile, say)
    accounts = sample_accounts(bench)
    remove_created(bench, accounts, say)  # leftovers of an interrupted run
    token = issue_bench_token(bench)
    port = free_port()
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115  (closed in the finally block)
        prefix="bench-gunicorn-", suffix=".log", delete=False
    )
    log_path = Path(log.name)
    server = start_server(port, log, conn_max_age, compiled)
    results: list[dict] = []
    measuring = time.perf_counter()
    try:
        wait_until_healthy(server, port, log_path)
        say(
            f"gunicorn ({WORKERS} sync workers, DATABASE_CONN_MAX_AGE={conn_max_age}) up on "
            f"127.0.0.1:{port}, log in {log_path}"
        )
        client = Client(port, token)
        try:
            list_match = list_results_match(client, say)
            list_body = body(LIST_QUERY, {"first": 50})
            list_requests = {PLATFORM: lambda: list_body, BASELINE: lambda: list_body}
            say(f"graphql_list: results match: {list_match}; measuring")
            measured = latency(client, list_requests, http_profile.warmup, http_profile.iterations)
            rps = rates(port, token, list_requests, http_profile.throughput_s)
            results.append(scenario_entry("graphql_list", measured, rps, list_match))

            makers = create_bodies(accounts)
            create_match = create_results_match(client, makers)
            say(f"graphql_create: results match: {create_match}; measuring")
            measured = latency(client, makers, http_profile.warmup, http_profile.iterations)
            rps = rates(port, token, makers, http_profile.throughput_s)
            results.append(scenario_entry("graphql_create", measured, rps, create_match))
        finally:
            client.close()
    finally:
        stop_server(server)
        log.close()
        cleaned = remove_created(bench, accounts, say)
        drop_bench_token(bench)
    for entry in results:
        say(
            f"{entry['scenario']}: platform p50 {entry['platform_p50_ms']} ms "
            f"({entry['platform_rps']}/s, {entry['platform_path']}), hand-written p50 "
            f"{entry['baseline_p50_ms']} ms ({entry['baseline_rps']}/s): ratio {entry['ratio']}"
        )
    context = {
        **profile.describe(),
        **facts,
        "http": {
            "server": f"gunicorn, {WORKERS} sync workers, 127.0.0.1",
            "database_conn_max_age": conn_max_age,
            "graphql_compiled": compiled,
            "clients_for_throughput": CLIENTS,
            "warmup": http_profile.warmup,
            "throughput_s_per_endpoint": http_profile.throughput_s,
            "platform_endpoint": PLATFORM,
            "baseline_endpoint": BASELINE,
        },
        "cleanup": cleaned,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **database_facts(),
        "commit": platform_commit(),
        "cpus": os.cpu_count(),
        "setup_s": round(measuring - started, 1),
        "measure_s": round(time.perf_counter() - measuring, 1),
    }
    for entry in results:
        entry["mode"] = profile.mode
        entry["dataset_opportunities"] = profile.big_opportunities
        entry["dataset"] = context
    path = write_json(results, profile.mode, conn_max_age, compiled)
    say(f"wrote {path}")
    print(table(results))  # noqa: T201
    say(describe_config(facts))
    say(f"done in {time.perf_counter() - started:.0f} s")
    log_path.unlink(missing_ok=True)
    return results
