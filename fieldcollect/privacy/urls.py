from django.urls import path

from fieldcollect.privacy import views

app_name = "privacy"
urlpatterns = [
    path("attestations/", views.attestation_list, name="attestations"),
    path("attestations/<int:attestation_id>/", views.attestation_detail, name="attestation"),
    path("sub-processors/", views.sub_processor_list, name="sub_processors"),
    path("sub-processors/<int:sub_processor_id>/end", views.sub_processor_end, name="sub_processor_end"),
    path("exports/", views.export_list, name="exports"),
    path("exports/cases.<str:fmt>", views.export_cases, name="export_cases"),
]
