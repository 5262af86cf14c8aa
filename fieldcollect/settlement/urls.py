from django.urls import path

from fieldcollect.settlement import views

app_name = "settlement"
urlpatterns = [
    path("settlement/", views.statement_list, name="list"),
    path("settlement/generate", views.statement_generate, name="generate"),
    path("settlement/<int:statement_id>/", views.statement_detail, name="detail"),
    path("settlement/<int:statement_id>/issue", views.statement_issue, name="issue"),
    path("settlement/<int:statement_id>/lines/<int:line_id>", views.line_action, name="line"),
    path("settlement/<int:statement_id>/invoice", views.invoice_action, name="invoice"),
    path("settlement/<int:statement_id>/claims", views.claim_upload, name="claims"),
    path("settlement/<int:statement_id>/claims/<int:claim_id>", views.claim_detail, name="claim"),
    path("settlement/<int:statement_id>/csv", views.statement_csv, name="csv"),
    path("settlement/<int:statement_id>/pdf", views.statement_pdf, name="pdf"),
]
