from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import models

from mycareer.accounts.models import (
    AccessGrant,
    DegreeProgramme,
    StaffMembership,
    StudentProfile,
    TermsVersion,
    TrainingCourse,
    TrainingRecord,
    TrainingSession,
    Unit,
    User,
)
from mycareer.core.forms import MultiLineField


class MembershipInline(admin.TabularInline):
    model = StaffMembership
    extra = 0
    # Units added here are the administrator's: the student record feed never removes them.
    readonly_fields = ["source"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["full_name"]
    list_display = ["email", "full_name", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["email", "full_name"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["full_name", "kind", "job_title", "phone"]}),
        ("Django admin", {"fields": ["is_active", "is_staff", "is_superuser"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "full_name", "kind", "password1", "password2"],
            },
        )
    ]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "parent"]
    list_filter = ["kind"]
    search_fields = ["name", "code"]


@admin.register(DegreeProgramme)
class DegreeProgrammeAdmin(admin.ModelAdmin):
    list_display = ["name", "unit", "level"]
    search_fields = ["name", "code"]


@admin.register(StudentProfile)
class StudentProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "student_number", "programme", "year_of_study"]
    search_fields = ["user__full_name", "student_number"]


@admin.register(TrainingCourse)
class TrainingCourseAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "valid_days"]
    # Its description's line breaks kept as "\n", as in MyCareer's own forms.
    formfield_overrides = {models.TextField: {"form_class": MultiLineField}}


# Grants, sessions, records and terms change through MyCareer's own pages, which audit
# every change; the admin site only reads them.
class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessGrant)
class AccessGrantAdmin(ReadOnlyAdmin):
    list_display = ["user", "level", "granted_at", "revoked_at"]


@admin.register(TrainingSession)
class TrainingSessionAdmin(ReadOnlyAdmin):
    list_display = ["course", "starts_at", "place", "capacity"]


@admin.register(TrainingRecord)
class TrainingRecordAdmin(ReadOnlyAdmin):
    list_display = ["user", "course", "status", "completed_on", "expires_on"]


@admin.register(TermsVersion)
class TermsVersionAdmin(ReadOnlyAdmin):
    list_display = ["version", "title", "published_at"]
