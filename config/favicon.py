"""/favicon.ico: browsers ask for it on every first page; without it each visit logs a 404.
Served from the static folder by the application itself, so it answers the same with DEBUG
on or off and behind any proxy."""

from django.conf import settings
from django.http import FileResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

ICON = settings.SITE_STATIC_DIR / "favicon.ico"


@require_GET
@cache_control(public=True, max_age=86400)
def favicon(request):
    return FileResponse(ICON.open("rb"), content_type="image/x-icon")
