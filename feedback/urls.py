from django.urls import path

from feedback import account_views, response_views, views

urlpatterns = [
    path("account/", account_views.account, name="account"),
    path("follow-ups/", views.follow_up_inbox, name="follow-up-inbox"),
    path("follow-ups/bulk/", views.follow_up_bulk, name="follow-up-bulk"),
    path("follow-ups/<int:follow_up_id>/", views.follow_up_detail, name="follow-up-detail"),
    path("follow-ups/<int:follow_up_id>/snooze/", views.follow_up_snooze_view, name="follow-up-snooze"),
    # Delighted's `permalink` of a response: a staff page (login, team rules), never the customer's link.
    path("follow-ups/responses/<int:response_id>/", response_views.response_detail, name="response-detail"),
    path("follow-ups/<int:follow_up_id>/notes/", views.follow_up_note, name="follow-up-note"),
    path("follow-ups/<int:follow_up_id>/resolve/", views.follow_up_resolve_view, name="follow-up-resolve"),
    path("follow-ups/<int:follow_up_id>/claim/", views.follow_up_claim, name="follow-up-claim"),
    path("follow-ups/<int:follow_up_id>/reassign/", views.follow_up_reassign, name="follow-up-reassign"),
    path("follow-ups/<int:follow_up_id>/move/", views.follow_up_move_view, name="follow-up-move"),
    path("follow-ups/<int:follow_up_id>/status/", views.follow_up_status, name="follow-up-status"),
    path("follow-ups/<int:follow_up_id>/reopen/", views.follow_up_reopen_view, name="follow-up-reopen"),
    path("follow-ups/<int:follow_up_id>/reply/", views.follow_up_reply_view, name="follow-up-reply"),
]
