from django.urls import path

from notifications import views

urlpatterns = [
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("webhooks/sendgrid/events/", views.sendgrid_events, name="sendgrid-events"),
    path("webhooks/sendgrid/inbound/", views.sendgrid_inbound, name="sendgrid-inbound"),
    path("webhooks/twilio/status/", views.twilio_status, name="twilio-status"),
    path("webhooks/twilio/sms/", views.twilio_sms, name="twilio-sms"),
    # The WhatsApp sender's "a message comes in" URL: the same handler tells the channels apart by `From`.
    path("webhooks/twilio/whatsapp/", views.twilio_sms, name="twilio-whatsapp"),
]
