from django.urls import path

from fieldcollect.complaints import views

app_name = "complaints"
urlpatterns = [
    path("", views.complaint_list, name="list"),
    path("queue/", views.work_queue, name="queue"),
    path("new/", views.intake, name="new"),
    path("feedback/", views.feedback_summary, name="feedback"),
    path("<int:complaint_id>/", views.detail, name="detail"),
    path("<int:complaint_id>/<str:action>", views.act, name="act"),
    path("c/<str:token>/", views.customer_file, name="customer_file"),
    path("c/<str:token>/answer", views.customer_answer, name="customer_answer"),
]
