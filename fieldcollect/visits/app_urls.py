"""The collector's phone app, mounted at ``/app/`` (the service worker's scope)."""

from django.urls import path

from fieldcollect.visits import app_views

app_name = "collector_app"
urlpatterns = [
    path("", app_views.app_page, name="page"),
    path("manifest.webmanifest", app_views.manifest, name="manifest"),
    path("sw.js", app_views.service_worker, name="sw"),
]
