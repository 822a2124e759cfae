from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import CareTeamEntry, Membership, Organisation, Person, Relative, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(User)
class VomUserAdmin(UserAdmin):
    inlines = [MembershipInline]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "principal", "phone", "is_active"]
    list_filter = ["kind", "principal"]


class CareTeamInline(admin.TabularInline):
    model = CareTeamEntry
    extra = 0
    raw_id_fields = ["member"]


class RelativeInline(admin.TabularInline):
    model = Relative
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_name", "date_of_birth", "city"]
    search_fields = ["last_name", "first_name"]
    inlines = [CareTeamInline, RelativeInline]
