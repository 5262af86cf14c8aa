from django.urls import path

from fieldcollect.qa import views

app_name = "qa"
urlpatterns = [
    path("recordings/<int:recording_id>/", views.review, name="review"),
    path("training/<int:agency_id>/", views.training_report, name="training"),
    path("queue/", views.queue, name="queue"),
    path("agreement/", views.agreement, name="agreement"),
    path("appeals/", views.appeals, name="appeals"),
    path("dashboard/", views.dashboard, name="dashboard"),
]
