from django.contrib import admin
from django.urls import include, path

from fieldcollect.accounts.views import FieldcollectLoginView
from fieldcollect.api.api import api

urlpatterns = [
    path("", include("fieldcollect.ops.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/login/", FieldcollectLoginView.as_view(), name="login"),
    path("accounts/", include("fieldcollect.accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("plans/", include("fieldcollect.plans.urls")),
    path("visits/", include("fieldcollect.visits.urls")),
    path("app/", include("fieldcollect.visits.app_urls")),  # the collector's phone app (offline first)
    path("earlywarning/", include("fieldcollect.earlywarning.urls")),
    path("privacy/", include("fieldcollect.privacy.urls")),
    path("complaints/", include("fieldcollect.complaints.urls")),
    path("qa/", include("fieldcollect.qa.urls")),
    path("", include("fieldcollect.cases.urls")),
    path("", include("fieldcollect.agencies.urls")),
    path("", include("fieldcollect.portfolio.urls")),
    path("", include("fieldcollect.scorecards.urls")),
    path("", include("fieldcollect.allocation.urls")),
    path("", include("fieldcollect.settlement.urls")),
    path("", include("fieldcollect.payments.urls")),
    path("compliance/", include("fieldcollect.compliance.urls")),
    path("audit/", include("fieldcollect.audit.urls")),
    path("", include("fieldcollect.caselibrary.urls")),
    path("", include("fieldcollect.legal.urls")),
    path("", include("fieldcollect.reports.urls")),
]
