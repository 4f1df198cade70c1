"""Chinese first: the UI is Chinese unless the person chose English with the page's language switch; and faults
(the database restarting, a full disk) answered with a clear 503/507 rather than a raw 500."""

import errno
import logging
import sys

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults

from decisions.api import errors
from decisions.rules import in_language
from decisions.services.common import StorageFull

logger = logging.getLogger(__name__)


class ChineseUnlessChosenMiddleware:
    """Ignore the browser's Accept-Language, so that LocaleMiddleware uses the switch's cookie or LANGUAGE_CODE.

    A government office's machines may be set up in English; the procedure's pages are still Chinese
    until someone picks English (中文 / English in the toolbar, Django's `set_language`).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


# -- faults: a clear answer instead of a raw 500 ---------------------------------------------------------------------


def _is_storage_full(exc):
    return isinstance(exc, OSError) and exc.errno == errno.ENOSPC


def fault_response(request, exc):
    """The answer to a fault the user can do nothing about but wait: 503 while the database is unreachable (a restart),
    507 while the file store is full; None for anything else. JSON under /api/ (decisions/api/errors.py), else a page.

    Either way the service's transaction was rolled back, so nothing was recorded and the same step may be sent again.
    """
    if isinstance(exc, (OperationalError, InterfaceError)):
        status, code = 503, "DATABASE_UNAVAILABLE"
        zh, en = (
            "数据库暂时不可用，请稍后重试。本次操作未记录任何内容。",
            "The database is unavailable for the moment; try again shortly. Nothing was recorded.",
        )
        # A broken connection is dropped now, so that the next request opens a new one (Django also does this when
        # the request finishes; tests' clients skip that step).
        for connection in connections.all(initialized_only=True):
            if not connection.in_atomic_block:
                connection.close_if_unusable_or_obsolete()
    elif _is_storage_full(exc):
        status, code = 507, "STORAGE_FULL"
        zh, en = StorageFull.message_zh, StorageFull.message_en
    else:
        return None
    logger.error("%s on %s %s: %s", code, request.method, request.path, exc)
    if request.path.startswith("/api/"):
        response = JsonResponse(errors.simple(code, zh, en), status=status, json_dumps_params={"ensure_ascii": False})
    else:
        # A page of its own, extending nothing: the usual layout reads the database (menus, the user).
        context = {"message": in_language(zh, en), "code": code, "status": status}
        response = HttpResponse(render_to_string("juece/fault.html", context), status=status)
    if status == 503:
        response["Retry-After"] = "30"
    return response


class FaultMiddleware:
    """Turn a database outage or a full disk during a view (pages and API) into 503/507 with a clear message."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exc):
        return fault_response(request, exc)


def server_error(request):
    """handler500: the same clear answer for a fault raised outside a view (a middleware reading the session)."""
    exc = sys.exc_info()[1]
    response = fault_response(request, exc) if exc is not None else None
    return response or defaults.server_error(request)
