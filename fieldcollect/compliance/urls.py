from django.urls import path

from fieldcollect.compliance import views

app_name = "compliance"
urlpatterns = [
    path("cases/<int:case_id>/flags/", views.case_flags, name="case_flags"),
    path("cases/<int:case_id>/flags/add", views.flag_add, name="flag_add"),
    path("cases/<int:case_id>/flags/<int:flag_id>/lift", views.flag_lift, name="flag_lift"),
    path("report/", views.report, name="report"),
    path("report.csv", views.report_csv, name="report_csv"),
    path("packs/", views.rule_packs, name="packs"),
]
