"""The runtime GraphQL API per tenant and configuration version (issue 6)."""
