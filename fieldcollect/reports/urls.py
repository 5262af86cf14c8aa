from django.urls import path

from fieldcollect.reports import views

app_name = "reports"
urlpatterns = [
    path("reports/", views.index, name="index"),
    path("reports/<slug:key>/", views.dashboard, name="dashboard"),
    path("reports/<slug:key>/export/<slug:table>.<str:fmt>", views.export, name="export"),
]
