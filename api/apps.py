from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"

    def ready(self):
        from api.schema.impact import graphql_impact
        from metadata import impact

        impact.register_data_check(graphql_impact)
