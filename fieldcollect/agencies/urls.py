from django.urls import path

from fieldcollect.agencies import views

app_name = "agencies"
urlpatterns = [
    path("agencies/", views.agency_list, name="list"),
    path("agencies/<int:agency_id>/", views.agency_detail, name="detail"),
    path("agencies/<int:agency_id>/contracts/new", views.contract_new, name="contract_new"),
    path("agencies/contracts/<int:contract_id>/", views.contract_detail, name="contract"),
    path("agencies/contracts/<int:contract_id>/propose", views.contract_propose, name="contract_propose"),
    path("agencies/contracts/<int:contract_id>/versions/<int:version_id>/decide", views.version_decide,
         name="version_decide"),
]
