import base64
import binascii

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from surveys.authentication import ApiKeyUser
from surveys.selectors import api_key_get_active
from surveys.services.api_keys import api_key_mark_used


class DelightedBasicAuthentication(authentication.BasicAuthentication):
    """Delighted's scheme: HTTP Basic with the API key as user and an empty or missing password.

    The official client encodes the bare key with no `:` at all, which DRF's parser rejects.
    """

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"basic":
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid basic header.")
        try:
            decoded = base64.b64decode(parts[1], validate=True).decode("latin-1")
        except (binascii.Error, ValueError) as exc:
            raise exceptions.AuthenticationFailed("Invalid basic header.") from exc
        userid, _, _password = decoded.partition(":")
        return self.authenticate_credentials(userid, "", request)

    def authenticate_credentials(self, userid, password, request=None):
        api_key = api_key_get_active(raw_key=userid)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        api_key_mark_used(api_key=api_key)
        return ApiKeyUser(api_key), api_key

    def authenticate_header(self, request) -> str:
        return 'Basic realm="Closeloop"'


class DelightedBasicAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = DelightedBasicAuthentication
    name = "delightedBasic"

    def get_security_definition(self, auto_schema) -> dict:
        return {"type": "http", "scheme": "basic", "description": "Delighted's scheme: the API key as user."}
