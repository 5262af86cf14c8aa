from __future__ import annotations

from django.contrib.auth.views import LoginView

from fieldcollect.core.models import User


class FieldcollectLoginView(LoginView):
    """Log in; bank users land on the portfolio overview, agency users on their cases."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        user = self.request.user
        if isinstance(user, User) and user.is_agency_user:
            return "/cases/"
        return super().get_default_redirect_url()
