"""URL routes of the backend: the API under /api/, the admin, and the OpenAPI schema and docs."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from common.views import SpaView

urlpatterns = [
    path("", SpaView.as_view(), name="home"),
    path("explore", SpaView.as_view(), name="explore"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view loads its start-up script from a URL rather than inline: the docs page
    # needs no 'unsafe-inline' script source in its Content-Security-Policy.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("api/", include("catalog.urls")),
    path("api/", include("recommender.urls")),
]

handler400 = "common.errors.handler400"
handler403 = "common.errors.handler403"
handler404 = "common.errors.handler404"
handler500 = "common.errors.handler500"
