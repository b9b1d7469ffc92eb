"""Agents and managers: creating them (the create_user command, the demo)."""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

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
