from django.conf import settings


def site(request):
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SESSION_IDLE_TIMEOUT_S": settings.SESSION_IDLE_TIMEOUT_S,
        "DISPLAY_TIME_ZONE": settings.TIME_ZONE,
    }
