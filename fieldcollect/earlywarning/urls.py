from django.urls import path

from fieldcollect.earlywarning import views

app_name = "earlywarning"
urlpatterns = [
    path("", views.warning_list, name="list"),
    path("models/", views.models_index, name="models"),
    path("models/<str:purpose>/", views.model_detail, name="model"),
    path("models/<str:purpose>/<str:version>/", views.model_detail, name="model_version"),
    path("experiments/", views.experiments, name="experiments"),
    path("strategy/", views.strategy, name="strategy"),
    path("loans/<int:loan_id>/", views.loan, name="loan"),
]
