import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()


def _warm() -> None:
    """Import every URL module and view now, not on each worker's first request: with gunicorn's
    preload the workers fork ready, and none makes its first callers wait for the imports."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the attribute access imports the URLconf
    # what is loaded now lives as long as the process: keep it out of the garbage collector's
    # full collections (shorter pauses under load; shared pages stay shared after the fork)
    gc.collect()
    gc.freeze()


_warm()
