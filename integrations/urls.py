from django.urls import path

from integrations.views import connector_receive

urlpatterns = [path("hooks/<uuid:public_id>/", connector_receive, name="connector-receive")]
