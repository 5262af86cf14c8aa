from django.urls import path

from fieldcollect.caselibrary import views

app_name = "caselibrary"
urlpatterns = [
    path("library/", views.story_list, name="list"),
    path("library/new/", views.story_new, name="new"),
    path("library/<int:story_id>/", views.story_detail, name="detail"),
    path("library/<int:story_id>/edit/", views.story_edit, name="edit"),
]
