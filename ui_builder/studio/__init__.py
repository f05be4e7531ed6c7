"""The consultant studio: Wagtail admin views over the tenant's draft configuration."""
