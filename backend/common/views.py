"""The page at `/` until the web client takes its place."""

from django.views.generic import TemplateView


class HomeView(TemplateView):
    template_name = "common/home.html"
