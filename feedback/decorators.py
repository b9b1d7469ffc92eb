"""Who may open a staff page, by role (feedback owns users and their roles)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def manager_required(view):
    """Managers only: a visitor goes to sign in, an agent (or a deactivated manager) gets 403."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not (request.user.is_active and request.user.is_manager):
            raise PermissionDenied("The console is for managers.")
        return view(request, *args, **kwargs)

    return wrapped
