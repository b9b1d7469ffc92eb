"""`/hooks/<connector>/`: where Shopify, Zendesk, Stripe and signed webhooks post (integrations/connectors.py).

No session, no CSRF token (the source's signature is the authentication); answers are small JSON:
200 received (or already received), 401 refused signature, 400 a signed body that is not a JSON object,
404 no active connector at this address.
"""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.connector_signatures import SignatureRefused
from integrations.connectors import BodyRefused, ConnectorNotFound, connector_delivery_receive


def _error(status: int, message: str, field: str) -> JsonResponse:
    return JsonResponse({"message": message, "errors": {field: [message]}}, status=status)


@csrf_exempt
@require_POST
def connector_receive(request, public_id):
    try:
        received = connector_delivery_receive(public_id=public_id, headers=request.headers, body=request.body)
    except ConnectorNotFound:
        return _error(404, "No active connector has this address.", "connector")
    except SignatureRefused as exc:
        return _error(401, str(exc), "signature")
    except BodyRefused as exc:
        return _error(400, str(exc), "body")
    return JsonResponse({"received": True, "duplicate": received.duplicate, "delivery": received.delivery.pk})
