from django.urls import path

from catalog.apis import HealthApi, MovieDetailApi, MovieListApi, MovieSimilarApi

urlpatterns = [
    path("health/", HealthApi.as_view(), name="health"),
    path("movies/", MovieListApi.as_view(), name="movie-list"),
    path("movies/<int:tmdb_id>/", MovieDetailApi.as_view(), name="movie-detail"),
    path("movies/<int:tmdb_id>/similar/", MovieSimilarApi.as_view(), name="movie-similar"),
]
