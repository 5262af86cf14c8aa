from django.urls import path

from fieldcollect.payments import views

app_name = "payments"
urlpatterns = [
    path("payments/reconciliation/", views.reconciliation, name="reconciliation"),
    path("payments/reconciliation/resend", views.resend, name="resend"),
]
