"""Agents and managers: creating them (the create_user command, the demo), their own language."""

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from feedback.models import Team, User


@transaction.atomic
def user_create(*, email: str, role: str, team_name: str = "", password: str | None = None) -> User:
    """Create an agent or manager, creating their team on first mention."""
    if role not in User.Role.values:
        raise ValidationError({"role": f"Choose one of {', '.join(User.Role.values)}."})
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": f"A user with email {email} already exists."})
    if password is not None:
        # Django's validators (length, common, numeric, like the email): the same rules as every password form.
        try:
            password_validation.validate_password(password, user=User(email=email))
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
    team = Team.objects.get_or_create(name=team_name)[0] if team_name else None
    # A manager's powers come from the role (feedback.backends.RoleBackend), never from being a superuser.
    return User.objects.create_user(email=email, password=password, role=role, team=team, is_staff=role == "manager")


def user_language_set(*, user: User, language: str) -> User:
    """The person's own choice of language for their pages and emails ("" follows their browser)."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose one of the languages offered.")})
    user.language = language
    user.save(update_fields=["language"])
    return user
