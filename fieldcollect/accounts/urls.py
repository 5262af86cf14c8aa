from django.urls import path

from fieldcollect.accounts import views

urlpatterns = [
    path("2fa/", views.totp_verify, name="totp_verify"),
    path("2fa/setup/", views.totp_setup, name="totp_setup"),
]
