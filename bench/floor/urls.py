import io

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.template import engines
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

PAGE = engines["django"].from_string(
    "<!doctype html><html lang=en><title>{{ row.1 }}</title><form method=post>{% for i in scale %}"
    "<label><input type=radio name=score value={{ i }}>{{ i }}</label>{% endfor %}</form></html>"
)


@csrf_exempt
def insert(request):
    """One INSERT per POST: the least a single event or an answer could cost."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO floor_row (body) VALUES (%s) RETURNING id", [request.body.decode()])
        row_id = cursor.fetchone()[0]
    return JsonResponse({"id": row_id}, status=201)


def page(request, row_id: int):
    """One SELECT per page, rendered by a template: the least the respondent page could cost."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, body FROM floor_row WHERE id = %s", [row_id])
        row = cursor.fetchone()
    return HttpResponse(PAGE.render({"row": row, "scale": range(11)}))


@csrf_exempt
def batch(request):
    """The rows of a batch by COPY, one per event: the floor of the batch intake."""
    import json

    events = json.loads(request.body)["events"]
    buffer = io.StringIO("".join(json.dumps(event).replace("\\", "\\\\") + "\n" for event in events))
    with connection.cursor() as cursor:
        with cursor.copy("COPY floor_row (body) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
    return JsonResponse({"created": len(events)}, status=201)


urlpatterns = [
    path("floor/insert", insert),
    path("floor/page/<int:row_id>", page),
    path("floor/batch", batch),
]
