from django.urls import path

from fieldcollect.payments import views

app_name = "payments"
urlpatterns = [
    path("payments/reconciliation/", views.reconciliation, name="reconciliation"),
    path("payments/reconciliation/resend", views.resend, name="resend"),
    path("payments/cases/<int:case_id>/links/", views.case_links, name="case_links"),
    path("payments/cases/<int:case_id>/receipt.pdf", views.case_receipt, name="case_receipt"),
]
