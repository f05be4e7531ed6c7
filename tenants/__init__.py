"""Companies (tenants), users and memberships, tenant resolution and row-level security."""
