"""The configuration model: each tenant's CRM as versioned JSON documents (issue 3)."""
