"""Operations URLs: include at the site root (``path("", include("fieldcollect.ops.urls"))``)."""

from django.urls import path

from fieldcollect.ops import health, metrics, views

app_name = "ops"
urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("ops/jobs/", views.jobs_page, name="jobs"),
    path("ops/jobs/rows/", views.jobs_rows, name="jobs_rows"),
    path("ops/jobs/start/", views.job_start, name="job_start"),
    path("ops/jobs/<int:job_id>/file/", views.job_file, name="job_file"),
]
