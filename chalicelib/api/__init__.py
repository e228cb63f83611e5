"""The HTTP routes, queue handlers and schedules, as Chalice blueprints by area; ``app.py`` registers them. Each
handler parses the request, calls one use case and maps its refusal to HTTP (``http.ERROR_STATUS``). Use cases never
import this package; nothing else in chalicelib imports Chalice."""
