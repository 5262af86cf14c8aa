from django.contrib import admin
from django.urls import include, path

from fieldcollect.api.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("fieldcollect.portfolio.urls")),
]
