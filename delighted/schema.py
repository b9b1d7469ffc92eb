"""How the Delighted-compatible `/v1/` API is described in `/api/schema/`: every path and method, its
parameters and body, under one tag. The views stay as they are (their bodies follow Delighted's own
shapes, built by hand); this module only annotates them, and is imported with the URLs."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view

from delighted.api import (
    AutopilotConfigurationApi,
    AutopilotMembershipsApi,
    BouncesApi,
    MembershipSerializer,
    PendingSurveyRequestsApi,
    PeopleApi,
    PersonCreateSerializer,
    PersonDeleteApi,
    ResponseCreateSerializer,
    ResponseUpdateSerializer,
    SurveyResponseApi,
    SurveyResponsesApi,
    UnsubscribesApi,
    UnsubscribeSerializer,
)

TAG = "Delighted-compatible"
OBJECT = OpenApiResponse(OpenApiTypes.OBJECT, description="Delighted's JSON shape of the object.")
LIST = OpenApiResponse(OpenApiTypes.OBJECT, description="A JSON array of Delighted's objects.")
ERRORS = {
    401: OpenApiResponse(description="No or unknown API key (HTTP Basic, the key as user name)."),
    422: OpenApiResponse(description="Invalid parameters: `{status, message, errors}`."),
}


def _query(name: str, kind=OpenApiTypes.STR, description: str = "") -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, required=False, description=description)


PAGE = [_query("per_page", OpenApiTypes.INT, "1 to 100, default 20."), _query("page", OpenApiTypes.INT)]
CURSOR = [
    _query("per_page", OpenApiTypes.INT, "1 to 100, default 20."),
    _query("page_info", description="The cursor from the previous page's `Link` header."),
]
SINCE_UNTIL = [
    _query("since", OpenApiTypes.INT, "Unix time."),
    _query("until", OpenApiTypes.INT, "Unix time."),
]
PLATFORM = OpenApiParameter("platform", OpenApiTypes.STR, OpenApiParameter.PATH, enum=["email", "sms"])


def _op(operation_id: str, summary: str, **kwargs):
    responses = kwargs.pop("responses", OBJECT)
    return extend_schema(
        operation_id=operation_id, tags=[TAG], summary=summary, responses={200: responses, **ERRORS}, **kwargs
    )


def annotate() -> None:
    extend_schema_view(
        post=_op(
            "v1_people_create", "Create or update a person and schedule their survey", request=PersonCreateSerializer
        ),
        get=_op(
            "v1_people_list",
            "List people",
            responses=LIST,
            parameters=[*CURSOR, *SINCE_UNTIL, _query("email"), _query("phone_number")],
        ),
    )(PeopleApi)
    extend_schema_view(
        delete=_op(
            "v1_person_delete",
            "Delete a person and their data (by id, email:… or phone_number:…)",
            parameters=[OpenApiParameter("identifier", OpenApiTypes.STR, OpenApiParameter.PATH)],
        ),
    )(PersonDeleteApi)
    extend_schema_view(
        delete=_op(
            "v1_pending_survey_requests_delete",
            "Cancel a person's pending survey requests",
            parameters=[OpenApiParameter("email", OpenApiTypes.STR, OpenApiParameter.PATH)],
        ),
    )(PendingSurveyRequestsApi)
    extend_schema_view(
        get=_op(
            "v1_survey_responses_list",
            "List survey responses",
            responses=LIST,
            parameters=[
                *PAGE,
                *SINCE_UNTIL,
                _query("updated_since", OpenApiTypes.INT, "Unix time."),
                _query("updated_until", OpenApiTypes.INT, "Unix time."),
                _query("order", description="asc, desc, asc:updated_at or desc:updated_at."),
                _query("person_id"),
                _query("person_email"),
                _query("trend"),
                _query("expand[]", description="person and/or notes."),
            ],
        ),
        post=_op("v1_survey_responses_create", "Add a survey response for a person", request=ResponseCreateSerializer),
    )(SurveyResponsesApi)
    # drf-spectacular names a `pk` path parameter `id`.
    pk = OpenApiParameter("id", OpenApiTypes.STR, OpenApiParameter.PATH, description="The response's id.")
    extend_schema_view(
        get=_op("v1_survey_response_get", "Get a survey response", parameters=[pk, _query("expand[]")]),
        put=_op(
            "v1_survey_response_update", "Change a survey response", request=ResponseUpdateSerializer, parameters=[pk]
        ),
    )(SurveyResponseApi)
    extend_schema_view(
        get=_op("v1_autopilot_get", "Autopilot configuration of a platform", parameters=[PLATFORM]),
    )(AutopilotConfigurationApi)
    extend_schema_view(
        get=_op(
            "v1_autopilot_memberships_list", "List Autopilot members", responses=LIST, parameters=[PLATFORM, *CURSOR]
        ),
        post=_op(
            "v1_autopilot_memberships_add",
            "Add a person to Autopilot",
            request=MembershipSerializer,
            parameters=[PLATFORM],
        ),
        delete=_op(
            "v1_autopilot_memberships_remove",
            "Remove a person from Autopilot",
            request=MembershipSerializer,
            parameters=[PLATFORM],
        ),
    )(AutopilotMembershipsApi)
    extend_schema_view(
        get=_op("v1_unsubscribes_list", "List unsubscribed people", responses=LIST, parameters=[*PAGE, *SINCE_UNTIL]),
        post=_op("v1_unsubscribes_create", "Unsubscribe a person", request=UnsubscribeSerializer),
    )(UnsubscribesApi)
    extend_schema_view(
        get=_op("v1_bounces_list", "List bounced people", responses=LIST, parameters=[*PAGE, *SINCE_UNTIL]),
    )(BouncesApi)
