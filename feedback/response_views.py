"""The staff page of one answer, `/follow-ups/responses/<id>/`: where Delighted's `permalink` points.

Login required; a manager sees every answer, an agent those whose case is their team's
(`feedback.selectors.responses_visible_to`); any other answer is a 404, like a case one may not see.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from feedback.selectors import response_get_visible


@login_required
@require_GET
def response_detail(request, response_id: int):
    response = response_get_visible(user=request.user, response_id=response_id)
    if response is None:
        raise Http404("No such answer.")
    case = getattr(response, "follow_up", None)
    return render(request, "feedback/response_detail.html", {"response": response, "case": case})
