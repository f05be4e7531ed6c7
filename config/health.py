"""``/healthz``: is the database reachable, is the broker reachable. JSON, no tenant needed."""

from django.http import JsonResponse

from config.startup import BackingServiceUnavailable, check_broker, check_database


def healthz(request):
    checks = {}
    for name, check in (("database", check_database), ("broker", check_broker)):
        try:
            check()
            checks[name] = {"ok": True}
        except BackingServiceUnavailable as error:
            checks[name] = {"ok": False, "error": str(error)}
    healthy = all(result["ok"] for result in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503
    )
