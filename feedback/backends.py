"""Sign-in by email and password (unless PASSWORD_SIGN_IN is off), and what a role may do in the admin.

A manager is not a Django superuser: their role grants every permission on the product's own models
(surveys, cases, webhooks, keys, people...), and nothing on Django's auth tables or on who is a
superuser. `manage.py createsuperuser` still makes a true superuser for the operator.
"""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.backends import ModelBackend

# The apps whose models a manager administers (the product's; not `auth`, `sessions`, `admin`, `axes`).
MANAGED_APPS = frozenset({"notifications", "surveys", "feedback", "insights", "integrations", "delighted"})


class RoleBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        # PASSWORD_SIGN_IN=false leaves signing in to the identity provider, on every form (the admin's too).
        if not settings.PASSWORD_SIGN_IN:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def _is_manager(self, user_obj) -> bool:
        return bool(user_obj.is_active and getattr(user_obj, "is_manager", False))

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        permissions = set(super().get_all_permissions(user_obj, obj))
        if self._is_manager(user_obj) and obj is None:
            from django.contrib.auth.models import Permission

            permissions |= {
                f"{app}.{codename}"
                for app, codename in Permission.objects.filter(content_type__app_label__in=MANAGED_APPS).values_list(
                    "content_type__app_label", "codename"
                )
            }
        return permissions

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        if self._is_manager(user_obj) and perm.partition(".")[0] in MANAGED_APPS:
            return True
        return super().has_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj, app_label: str) -> bool:
        if self._is_manager(user_obj) and app_label in MANAGED_APPS:
            return True
        return super().has_module_perms(user_obj, app_label)


class SignInThrottleBackend(AxesStandaloneBackend):
    """django-axes' lock-out check for every sign-in made over HTTP (Django's sign-in form passes the request).

    A call without a request is no one signing in from an address (a management command, Django's test
    client): there is no address to count, so it is left to the next backend instead of refused.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
