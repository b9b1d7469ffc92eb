"""Password reset and the set-password link of an invitation: Django's own views and tokens; the email goes
out as a Message row like every other, in Closeloop's words. And the two addresses of sign-in with the
company's identity provider (console/sso.py)."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.urls import path

from console.services import set_password_link, staff_email_send
from console.sso import ProviderSignInCallback, ProviderSignInStart


class EmailedResetForm(PasswordResetForm):
    """Django's form (it says nothing of whether the address is known); the email is ours."""

    def save(self, *args, **kwargs) -> None:
        for user in self.get_users(self.cleaned_data["email"]):
            staff_email_send(
                user=user, template="console/emails/password_reset", context={"link": set_password_link(user)}
            )


urlpatterns = [
    # The names are mozilla-django-oidc's own, which it reverses.
    path("accounts/oidc/start/", ProviderSignInStart.as_view(), name="oidc_authentication_init"),
    path("accounts/oidc/callback/", ProviderSignInCallback.as_view(), name="oidc_authentication_callback"),
    path(
        "accounts/password-reset/",
        auth_views.PasswordResetView.as_view(form_class=EmailedResetForm),
        name="password_reset",
    ),
    path("accounts/password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
