from django.contrib import admin

from catalog.models import Genre, Movie, Rating


@admin.register(Movie)
class MovieAdmin(admin.ModelAdmin):
    list_display = ["title", "year", "original_language", "vote_average", "vote_count", "source"]
    list_filter = ["genres", "original_language", "source"]
    search_fields = ["title", "original_title", "director"]
    filter_horizontal = ["genres"]


admin.site.register(Genre)


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ["user_id", "movie", "rating", "source"]
    raw_id_fields = ["movie"]
