"""Staff-only catalog writes: add, edit and delete films; each is embedded and indexed at once.

The same URLs serve the public reads (catalog.apis); these classes add the write methods and
require a staff session (with its CSRF token) for them. Anonymous writes get 401/403.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.apis import MovieDetailApi, MovieListApi, MovieOutputSerializer
from catalog.fields import genres_from_labels, language_from_label
from catalog.models import Movie
from catalog.selectors import movie_get
from catalog.services.movies import movie_create, movie_delete, movie_update
from catalog.vector_store import get_catalog_index
from clients.factories import get_model_service_client
from common.errors import ApplicationError

INT32_MAX = 2**31 - 1


class StaffWrites(permissions.BasePermission):
    """Anyone may read; only staff may write."""

    message = "Only staff can change the catalog; sign in at /admin/ with a staff account."

    def has_permission(self, request: Request, view: object) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class MovieWriteSerializer(serializers.Serializer):
    # The database's integer columns are 32-bit: larger values are refused here, not by it.
    tmdb_id = serializers.IntegerField(
        min_value=1, max_value=INT32_MAX, help_text="TMDB id (the primary key)"
    )
    title = serializers.CharField(max_length=300)
    original_title = serializers.CharField(max_length=300, required=False, allow_blank=True)
    year = serializers.IntegerField(min_value=1870, max_value=2100, required=False, allow_null=True)
    release_date = serializers.DateField(required=False, allow_null=True)
    genres = serializers.ListField(child=serializers.CharField(max_length=40), required=False)
    overview = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    original_language = serializers.CharField(required=False, allow_blank=True, max_length=40)
    runtime = serializers.IntegerField(min_value=1, max_value=1000, required=False, allow_null=True)
    popularity = serializers.FloatField(min_value=0, required=False, allow_null=True)
    vote_average = serializers.FloatField(
        min_value=0, max_value=10, required=False, allow_null=True
    )
    vote_count = serializers.IntegerField(
        min_value=0, max_value=INT32_MAX, required=False, allow_null=True
    )
    poster_path = serializers.CharField(max_length=200, required=False, allow_blank=True)
    keywords = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=50
    )
    cast = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=50
    )
    director = serializers.CharField(max_length=200, required=False, allow_blank=True)
    imdb_id = serializers.CharField(max_length=20, required=False, allow_blank=True)

    def validate_title(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("The title is empty.")
        return value.strip()

    def validate_genres(self, value: list[str]) -> list[str]:
        return list(genres_from_labels(value))

    def validate_original_language(self, value: str) -> str:
        return language_from_label(value)


class MovieSavedSerializer(serializers.Serializer):
    movie = MovieOutputSerializer()
    indexed = serializers.BooleanField(help_text="searchable now")
    notice = serializers.CharField(help_text="why not, and what fixes it")


def _saved(movie: Movie, outcome, code: int) -> Response:
    movie = movie_get(tmdb_id=movie.tmdb_id)
    body = {"movie": movie, "indexed": outcome.indexed, "notice": outcome.notice}
    return Response(MovieSavedSerializer(body).data, status=code)


class MovieCollectionApi(MovieListApi):
    """GET: search or browse (public). POST: add a film (staff)."""

    permission_classes = [StaffWrites]

    @extend_schema(
        request=MovieWriteSerializer,
        responses={
            201: MovieSavedSerializer,
            400: OpenApiResponse(description="Invalid fields"),
            401: OpenApiResponse(description="Not signed in"),
            403: OpenApiResponse(description="Signed in without staff rights"),
            409: OpenApiResponse(description="A film with this TMDB id exists"),
        },
        summary="Add a film (staff): saved, embedded and indexed at once",
    )
    def post(self, request: Request) -> Response:
        params = MovieWriteSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        if Movie.objects.filter(tmdb_id=data["tmdb_id"]).exists():
            raise ApplicationError(
                f"A film with TMDB id {data['tmdb_id']} exists; PATCH /api/movies/"
                f"{data['tmdb_id']}/ changes it.",
                code="conflict",
                status_code=409,
            )
        movie, outcome = movie_create(
            data=data, embedder=get_model_service_client(), get_index=get_catalog_index
        )
        return _saved(movie, outcome, status.HTTP_201_CREATED)


class MovieItemApi(MovieDetailApi):
    """GET: one film (public). PATCH: edit it, DELETE: remove it (staff)."""

    permission_classes = [StaffWrites]

    @extend_schema(
        request=MovieWriteSerializer(partial=True),
        responses={200: MovieSavedSerializer},
        summary="Edit a film (staff): re-embedded and re-indexed at once",
    )
    def patch(self, request: Request, tmdb_id: int) -> Response:
        movie = movie_get(tmdb_id=tmdb_id)
        params = MovieWriteSerializer(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        if data.pop("tmdb_id", tmdb_id) != tmdb_id:
            raise serializers.ValidationError({"tmdb_id": ["The TMDB id cannot change."]})
        movie, outcome = movie_update(
            movie=movie, data=data, embedder=get_model_service_client(), get_index=get_catalog_index
        )
        return _saved(movie, outcome, status.HTTP_200_OK)

    @extend_schema(responses={204: None}, summary="Delete a film (staff); it leaves the index")
    def delete(self, request: Request, tmdb_id: int) -> Response:
        outcome = movie_delete(movie=movie_get(tmdb_id=tmdb_id), get_index=get_catalog_index)
        headers = {} if outcome.indexed else {"X-Marquee-Notice": outcome.notice[:500]}
        return Response(status=status.HTTP_204_NO_CONTENT, headers=headers)
