"""The two dataset sizes: ``full`` (the issue's numbers) and ``quick`` (about a minute)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

# Bump when the generated data changes: tenants whose stored signature differs are regenerated.
GENERATOR_VERSION = 3


@dataclass(frozen=True)
class Profile:
    mode: str
    slug_prefix: str
    tenants: int
    big_opportunities: int  # in the first tenant, the one every scenario reads
    big_accounts: int
    small_opportunities: int  # in each of the other tenants
    small_accounts: int
    bulk_rows: int
    bulk_chunk: int  # rows per bulk_create call; p50/p95 of bulk_insert are per call
    bulk_budget_s: float  # the platform's bulk insert stops after this much time
    warmup: int
    iterations: int
    aggregate_iterations: int
    deep_offset: int  # rows skipped before the deep keyset page

    def slugs(self) -> list[str]:
        return [f"{self.slug_prefix}{index:03d}" for index in range(self.tenants)]

    def sizes(self, index: int) -> tuple[int, int]:
        """(accounts, opportunities) generated in the tenant at ``index``."""
        if index == 0:
            return self.big_accounts, self.big_opportunities
        return self.small_accounts, self.small_opportunities

    def describe(self) -> dict:
        total = self.big_opportunities + (self.tenants - 1) * self.small_opportunities
        accounts = self.big_accounts + (self.tenants - 1) * self.small_accounts
        return {
            **asdict(self),
            "generator_version": GENERATOR_VERSION,
            "total_opportunities": total,
            "total_accounts": accounts,
        }


FULL = Profile(
    mode="full",
    slug_prefix="bench-",
    tenants=100,
    big_opportunities=1_000_000,
    big_accounts=20_000,
    small_opportunities=40,
    small_accounts=10,
    bulk_rows=100_000,
    bulk_chunk=10_000,
    bulk_budget_s=300.0,
    warmup=3,
    iterations=30,
    aggregate_iterations=10,
    deep_offset=10_000,
)

QUICK = Profile(
    mode="quick",
    slug_prefix="bench-quick-",
    tenants=3,
    big_opportunities=20_000,
    big_accounts=400,
    small_opportunities=500,
    small_accounts=20,
    bulk_rows=10_000,
    bulk_chunk=2_000,
    bulk_budget_s=45.0,
    warmup=2,
    iterations=15,
    aggregate_iterations=8,
    deep_offset=2_000,
)
