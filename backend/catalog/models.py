"""The catalog: movies keyed by TMDB id, their genres, and users' ratings (collaborative signal)."""

from __future__ import annotations

from django.db import models


class Genre(models.Model):
    name = models.CharField(max_length=40, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Movie(models.Model):
    tmdb_id = models.PositiveIntegerField(primary_key=True, verbose_name="TMDB id")
    title = models.CharField(max_length=300, db_index=True)
    original_title = models.CharField(max_length=300, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)
    release_date = models.DateField(null=True, blank=True)
    genres = models.ManyToManyField(Genre, related_name="movies", blank=True)
    overview = models.TextField(blank=True)
    original_language = models.CharField(max_length=12, blank=True, db_index=True)
    runtime = models.PositiveIntegerField(null=True, blank=True, help_text="minutes")
    popularity = models.FloatField(null=True, blank=True, db_index=True)
    vote_average = models.FloatField(null=True, blank=True)
    vote_count = models.PositiveIntegerField(null=True, blank=True)
    poster_path = models.CharField(max_length=200, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    cast = models.JSONField(default=list, blank=True)
    director = models.CharField(max_length=200, blank=True)
    imdb_id = models.CharField(max_length=20, blank=True)
    source = models.CharField(max_length=40, blank=True)

    # Derived state: the vector is stored so the index can be rebuilt without the model service.
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    embedding_model = models.CharField(max_length=300, blank=True, editable=False)
    embedding_text_hash = models.CharField(max_length=64, blank=True, editable=False)
    # Hash of every field plus the embedding's identity; the index stores the value it was
    # written from, so a row is "pending" for the index whenever the two differ.
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    indexed_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-popularity", "tmdb_id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.year})" if self.year else self.title


class Rating(models.Model):
    """One user's rating of one movie, from a source that provides ratings (e.g. MovieLens)."""

    source = models.CharField(max_length=40)
    user_id = models.PositiveIntegerField()
    movie = models.ForeignKey(Movie, on_delete=models.CASCADE, related_name="ratings")
    rating = models.FloatField()
    rated_at = models.BigIntegerField(null=True, blank=True, help_text="unix time")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "user_id", "movie"], name="unique_rating_per_source_user_movie"
            )
        ]
        indexes = [models.Index(fields=["movie", "rating"])]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.movie_id}: {self.rating}"


class MovieNeighbor(models.Model):
    """A stored "people who liked X also liked Y" pair: top neighbours of each movie, by rank.

    Derived from the Rating rows (catalog.services.neighbours), replaced whenever they change,
    so "more like this" reads a handful of rows instead of scanning ratings per request.
    """

    movie = models.ForeignKey(Movie, on_delete=models.CASCADE, related_name="neighbors")
    neighbor = models.ForeignKey(Movie, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(help_text="shrunk cosine similarity of the two movies' likes")
    rank = models.PositiveSmallIntegerField(help_text="1 = the closest neighbour")
    co_likes = models.PositiveIntegerField(default=0, help_text="users who liked both")
    source = models.CharField(max_length=40, default="ratings")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["movie", "neighbor"], name="unique_movie_neighbor")
        ]
        indexes = [models.Index(fields=["movie", "rank"], name="movie_neighbor_rank")]

    def __str__(self) -> str:
        return f"{self.movie_id} → {self.neighbor_id} (#{self.rank}, {self.score:.3f})"
