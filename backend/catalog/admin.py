"""Django admin for the catalog: films saved here are embedded and searchable at once."""

from __future__ import annotations

from django.contrib import admin, messages

from catalog.models import Genre, Movie, MovieNeighbor, Rating
from catalog.services.movies import ADMIN_SOURCE, movie_index_refresh
from catalog.vector_store import get_catalog_index
from clients.factories import get_model_service_client
from vector_index import IndexError as VectorIndexError


@admin.register(Movie)
class MovieAdmin(admin.ModelAdmin):
    list_display = ["title", "year", "original_language", "vote_average", "vote_count", "source"]
    list_filter = ["genres", "original_language", "source"]
    search_fields = ["title", "original_title", "director", "=tmdb_id"]
    filter_horizontal = ["genres"]
    readonly_fields = ["embedding_model", "indexed", "created_at", "updated_at"]

    @admin.display(boolean=True, description="In the search index")
    def indexed(self, movie: Movie) -> bool:
        return bool(movie.content_hash) and movie.indexed_hash == movie.content_hash

    def save_model(self, request, obj: Movie, form, change: bool) -> None:
        if not change and not obj.source:
            obj.source = ADMIN_SOURCE
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change: bool) -> None:
        # Genres are saved here, after the row: embed once everything is in place.
        super().save_related(request, form, formsets, change)
        movie = form.instance
        outcome = movie_index_refresh(
            tmdb_id=movie.tmdb_id,
            embedder=get_model_service_client(),
            get_index=get_catalog_index,
        )
        if outcome.indexed:
            messages.success(request, f"{movie.title} is searchable now.")
        else:
            messages.warning(request, outcome.notice)

    def delete_model(self, request, obj: Movie) -> None:
        tmdb_id = obj.tmdb_id
        super().delete_model(request, obj)
        self._unindex(request, [tmdb_id])

    def delete_queryset(self, request, queryset) -> None:
        ids = list(queryset.values_list("tmdb_id", flat=True))
        super().delete_queryset(request, queryset)
        self._unindex(request, ids)

    def _unindex(self, request, ids: list[int]) -> None:
        try:
            get_catalog_index().delete(ids)
        except VectorIndexError as exc:
            messages.warning(
                request,
                f"Deleted from the database, but the search index still holds them ({exc}); "
                "run `prepare-databases/prepare.py verify --repair`.",
            )


admin.site.register(Genre)


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ["user_id", "movie", "rating", "source"]
    raw_id_fields = ["movie"]


@admin.register(MovieNeighbor)
class MovieNeighborAdmin(admin.ModelAdmin):
    """Read-only: neighbours are recomputed from ratings (`prepare.py neighbours`)."""

    list_display = ["movie", "rank", "neighbor", "score", "co_likes", "source"]
    raw_id_fields = ["movie", "neighbor"]
    search_fields = ["=movie__tmdb_id", "movie__title"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
