from django.urls import path

from fieldcollect.legal import views

app_name = "legal"
urlpatterns = [
    path("legal/", views.dashboard, name="dashboard"),
    path("legal/referrals/<int:referral_id>/", views.referral_detail, name="referral"),
    path("legal/letters/<int:letter_id>/pdf", views.letter_pdf, name="letter_pdf"),
    path("legal/letters/<int:letter_id>/track", views.letter_track, name="letter_track"),
    path("legal/repair/", views.repair_queue, name="repair"),
    path("legal/vendor-import/", views.vendor_import, name="vendor_import"),
    path("legal/contacts/<int:alt_contact_id>/reveal", views.contact_reveal, name="contact_reveal"),
    path("legal/contacts/<int:alt_contact_id>/verify", views.contact_verify, name="contact_verify"),
    path("cases/<int:case_id>/legal/", views.case_legal, name="case"),
]
