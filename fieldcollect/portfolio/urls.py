from django.urls import path

from fieldcollect.portfolio import views

app_name = "portfolio"
urlpatterns = [
    path("", views.overview, name="overview"),
]
