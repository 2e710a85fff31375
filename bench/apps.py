from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Benchmark-only views and tables; installed by bench.settings, never by config.settings."""

    name = "bench"
    default_auto_field = "django.db.models.BigAutoField"
