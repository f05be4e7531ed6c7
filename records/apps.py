from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"

    def ready(self) -> None:
        # The publish impact report gets its data part from the records engine.
        from metadata import impact
        from records.impact_checks import records_impact
        from records.schema_jobs import schedule_schema_jobs

        if records_impact not in impact.data_checks:
            impact.register_data_check(records_impact)
        # Renames and type changes move the stored data in background jobs.
        impact.register_publish_hook(schedule_schema_jobs)
