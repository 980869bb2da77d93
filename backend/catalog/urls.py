from django.urls import path

from catalog.apis import CatalogMapApi, HealthApi, MovieSimilarApi
from catalog.apis_staff import MovieCollectionApi, MovieItemApi

urlpatterns = [
    path("health/", HealthApi.as_view(), name="health"),
    path("catalog/map/", CatalogMapApi.as_view(), name="catalog-map"),
    path("movies/", MovieCollectionApi.as_view(), name="movie-list"),
    path("movies/<int:tmdb_id>/", MovieItemApi.as_view(), name="movie-detail"),
    path("movies/<int:tmdb_id>/similar/", MovieSimilarApi.as_view(), name="movie-similar"),
]
