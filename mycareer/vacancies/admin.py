from django.contrib import admin

from mycareer.vacancies.models import Vacancy


@admin.register(Vacancy)
class VacancyAdmin(admin.ModelAdmin):
    """Read-only: vacancies change through MyCareer's pages, which moderate and audit."""

    list_display = ["title", "organisation", "type", "status", "closing_date", "posted_by_staff"]
    list_filter = ["status", "type", "posted_by_staff"]
    search_fields = ["title", "organisation__name"]
    list_select_related = ["organisation"]
    date_hierarchy = "closing_date"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
