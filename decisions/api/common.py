"""Pieces every API view shares: pagination, the gate on one decision, action input."""

from rest_framework.pagination import PageNumberPagination

from decisions import permissions


class Pagination(PageNumberPagination):
    """?page=N&page_size=M (at most 200): lists stay bounded whatever the data."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def readable_decision(request, reference):
    """(decision, roles) for the requesting user, as the decision page gates it (404, or 403 without a role)."""
    return permissions.readable_decision(request.user, reference)
