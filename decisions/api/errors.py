"""How the API answers a refusal: the same codes and articles as the pages, as JSON.

409  a procedure rule refused the step (ProcedureRefused): every failed rule with code and article;
403  the user holds no role for it (NotPermitted, code ROLE_NOT_PERMITTED; Django's PermissionDenied);
400  the input is malformed (field-level messages, as the form shows them);
401  not logged in; 404  no such object.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from decisions.permissions import NotPermitted
from decisions.rules import ProcedureRefused


class InvalidInput(exceptions.ValidationError):
    """Malformed input, with Django form errors kept field by field."""

    def __init__(self, form_errors):
        self.form_errors = form_errors
        super().__init__(form_errors)


def failure_json(failure):
    rule = failure.rule
    return {
        "code": rule.code,
        "article": rule.citation,
        "message": {"zh": rule.zh, "en": rule.en},
        "detail": failure.detail,
    }


def refusal_json(refused):
    """The body of a 403/409 for a rule refusal: the first failure on top, every failure listed."""
    failures = [failure_json(f) for f in refused.failures]
    return {**failures[0], "failures": failures}


def simple(code, zh, en, article=""):
    body = {"code": code, "article": article, "message": {"zh": zh, "en": en}, "detail": ""}
    return {**body, "failures": [body]}


def exception_handler(exc, context):
    if isinstance(exc, NotPermitted):
        return Response(refusal_json(exc), status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, ProcedureRefused):
        return Response(refusal_json(exc), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, InvalidInput):
        errors = {
            field: [
                {"message": str(e.message % e.params if e.params else e.message), "code": e.code or "invalid"}
                for e in error_list.as_data()
            ]
            for field, error_list in exc.form_errors.items()
        }
        body = simple("INVALID_INPUT", "输入有误，请按提示修改", "The input is malformed")
        return Response({**body, "errors": errors}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, (PermissionDenied, exceptions.PermissionDenied)):
        message = str(getattr(exc, "detail", "") or exc) or gettext("无权办理")
        return Response(simple("ROLE_NOT_PERMITTED", message, message, "B1"), status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, (Http404, exceptions.NotFound)):
        return Response(simple("NOT_FOUND", "未找到", "Not found"), status=status.HTTP_404_NOT_FOUND)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = {
        400: "INVALID_INPUT",
        401: "NOT_AUTHENTICATED",
        405: "METHOD_NOT_ALLOWED",
        406: "NOT_ACCEPTABLE",
        415: "UNSUPPORTED_MEDIA_TYPE",
        429: "THROTTLED",
    }.get(response.status_code, "ERROR")
    detail = response.data
    message = detail.get("detail") if isinstance(detail, dict) and "detail" in detail else detail
    body = simple(code, str(message), str(message))
    if response.status_code == 400:
        body["errors"] = detail if isinstance(detail, dict) else {"non_field_errors": detail}
    response.data = body
    return response


# -- for the schema -------------------------------------------------------------------------------------


class MessageSerializer(serializers.Serializer):
    zh = serializers.CharField()
    en = serializers.CharField()


class FailureSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="规则代码 (B10a), e.g. PRIOR_STAGES_INCOMPLETE")
    article = serializers.CharField(help_text="所依据的条款, e.g. 《重大行政决策程序暂行条例》第二十六条")
    message = MessageSerializer()
    detail = serializers.CharField(allow_blank=True)


class ErrorSerializer(FailureSerializer):
    failures = FailureSerializer(many=True)
    errors = serializers.DictField(required=False, help_text="field → messages (400 only)")


ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="输入有误 (malformed input), field by field"),
    401: OpenApiResponse(ErrorSerializer, description="未登录 (not authenticated)"),
    403: OpenApiResponse(ErrorSerializer, description="无权办理 (no role for this)"),
    404: OpenApiResponse(ErrorSerializer, description="未找到 (not found)"),
    409: OpenApiResponse(ErrorSerializer, description="程序规则不允许 (refused by a procedure rule, with its article)"),
    429: OpenApiResponse(ErrorSerializer, description="请求过于频繁 (throttled)"),
}


# Any endpoint may answer these: a bad filter or page, a missing or wrong token, no role, nothing there.
ALWAYS = (400, 401, 403, 404)


def responses(ok, *codes):
    """The documented responses of an endpoint: `ok`, the statuses every endpoint may give, and `codes`."""
    return {**ok, **{code: ERRORS[code] for code in sorted({*ALWAYS, *codes})}}
