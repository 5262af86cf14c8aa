from django.urls import path

from fieldcollect.plans import views

app_name = "plans"
urlpatterns = [
    path("case/<int:case_id>/options", views.case_options, name="options"),
    path("case/<int:case_id>/hardship", views.hardship_create, name="hardship"),
    path("case/<int:case_id>/propose", views.propose, name="propose"),
    path("queue/", views.queue, name="queue"),
    path("<int:proposal_id>/", views.detail, name="detail"),
    path("<int:proposal_id>/endorse", views.endorse, name="endorse"),
    path("<int:proposal_id>/decide", views.decide, name="decide"),
    path("<int:proposal_id>/offer", views.offer, name="offer"),
    path("a/<str:token>/", views.customer_offer, name="customer"),
    path("a/<str:token>/accept", views.customer_accept, name="customer_accept"),
    path("a/<str:token>/decline", views.customer_decline, name="customer_decline"),
    path("a/<str:token>/agreement.pdf", views.customer_pdf, name="customer_pdf"),
]
