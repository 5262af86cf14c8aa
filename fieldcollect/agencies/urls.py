from django.urls import path

from fieldcollect.agencies import views

app_name = "agencies"
urlpatterns = [
    path("agencies/", views.agency_list, name="list"),
    path("agencies/<int:agency_id>/", views.agency_detail, name="detail"),
]
