from django.urls import path

from fieldcollect.allocation import views

app_name = "allocation"
urlpatterns = [
    path("allocation/", views.run_list, name="list"),
    path("allocation/run", views.run_create, name="create"),
    path("allocation/<int:run_id>/", views.run_detail, name="detail"),
    path("allocation/<int:run_id>/apply", views.run_apply, name="apply"),
]
