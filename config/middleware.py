"""Chinese first: the UI is Chinese unless the person chose English with the page's language switch."""


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
