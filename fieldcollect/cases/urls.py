from django.urls import path

from fieldcollect.cases import batch_views, views

app_name = "cases"
urlpatterns = [
    path("cases/", views.case_list, name="list"),
    path("cases/batch/", batch_views.batch_page, name="batch"),
    path("cases/batch/new", batch_views.batch_create, name="batch_create"),
    path("cases/batch/<int:batch_id>/", batch_views.batch_detail, name="batch_detail"),
    path("cases/batch/<int:batch_id>/decide", batch_views.batch_decide, name="batch_decide"),
    path("cases/<int:case_id>/", views.case_detail, name="detail"),
    path("cases/<int:case_id>/contact", views.case_contact, name="contact"),
    path("cases/<int:case_id>/promise", views.case_promise, name="promise"),
    path("cases/<int:case_id>/assign", views.case_assign, name="assign"),
    path("cases/<int:case_id>/note", views.case_note, name="note"),
    path("cases/<int:case_id>/task", views.case_task, name="task"),
    path("cases/<int:case_id>/place", views.case_place, name="place"),
    path("cases/<int:case_id>/recall", views.case_recall, name="recall"),
    path("cases/<int:case_id>/close", views.case_close, name="close"),
    path("cases/<int:case_id>/unmask", views.case_unmask, name="unmask"),
    path("tasks/", views.task_list, name="tasks"),
    path("results/import", views.results_import_page, name="results_import"),
    path("tasks/<int:task_id>/complete", views.task_complete, name="task_complete"),
]
