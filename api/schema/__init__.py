"""The runtime GraphQL schema of each (tenant, configuration version)."""
