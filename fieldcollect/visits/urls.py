from django.urls import path

from fieldcollect.visits import views

app_name = "visits"
urlpatterns = [
    path("day/", views.day_plan, name="day"),
    path("teams/", views.teams, name="teams"),
    path("map/", views.manager_map, name="map"),
    path("plan/<int:plan_id>.geojson", views.plan_geojson, name="plan_geojson"),
    path("case/<int:case_id>/", views.case_visit, name="case"),
    path("case/<int:case_id>/propose", views.propose, name="propose"),
    path("case/<int:case_id>/checkin", views.checkin, name="checkin"),
    path("case/<int:case_id>/report", views.report_start, name="report_start"),
    path("appointment/<int:appointment_id>/cancel", views.cancel, name="cancel"),
    path("report/<int:report_id>/", views.report, name="report"),
    path("report/<int:report_id>/evidence", views.evidence, name="evidence"),
    path("evidence/<int:evidence_id>", views.evidence_file, name="evidence_file"),
    path("report/<int:report_id>/close", views.report_close, name="report_close"),
    path("a/<str:token>/", views.customer, name="customer"),
    path("a/<str:token>/<str:action>", views.customer_answer, name="customer_answer"),
    path("f/<str:token>/", views.feedback, name="feedback"),
]
