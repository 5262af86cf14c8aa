from django.urls import path

from fieldcollect.scorecards import views

app_name = "scorecards"
urlpatterns = [
    path("selection/", views.selection, name="selection"),
    path("selection/weights", views.weights, name="weights"),
    path("selection/agencies/<int:agency_id>/", views.candidate, name="candidate"),
    path("scorecards/", views.scorecard_list, name="list"),
    path("scorecards/<int:agency_id>/", views.scorecard_detail, name="detail"),
]
