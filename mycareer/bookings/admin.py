"""Read-only admin views: every change goes through the services (capacity, audit, emails)."""

from django.contrib import admin

from mycareer.bookings.models import (
    Booking,
    BookingBan,
    BookingSettings,
    EmployerReport,
    NoShowFollowUp,
    NoShowPolicy,
    WaitlistEntry,
)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Booking)
class BookingAdmin(ReadOnly):
    list_display = ["event", "student", "status", "source", "booked_at", "checked_in_at"]
    list_filter = ["status", "source"]
    search_fields = ["student__full_name", "student__email", "event__title"]
    list_select_related = ["event", "student"]


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(ReadOnly):
    list_display = ["event", "student", "status", "joined_at", "offer_expires_at"]
    list_filter = ["status"]
    search_fields = ["student__full_name", "student__email", "event__title"]
    list_select_related = ["event", "student"]


@admin.register(BookingSettings)
class BookingSettingsAdmin(ReadOnly):
    list_display = ["event", "capacity", "waiting_list", "promotion", "attendance_closed_at"]
    list_select_related = ["event"]


@admin.register(BookingBan)
class BookingBanAdmin(ReadOnly):
    list_display = ["student", "starts_at", "ends_at", "lifted_at"]
    list_select_related = ["student"]


admin.site.register(NoShowPolicy, ReadOnly)
admin.site.register(NoShowFollowUp, ReadOnly)
admin.site.register(EmployerReport, ReadOnly)
