from django.contrib import admin

from .models import ConnectedOrganisation, IdentityProvider, SignInEvent


class ConnectedOrganisationInline(admin.TabularInline):
    model = ConnectedOrganisation
    extra = 1


@admin.register(IdentityProvider)
class IdentityProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "protocol", "issuer", "is_active"]
    inlines = [ConnectedOrganisationInline]


@admin.register(SignInEvent)
class SignInEventAdmin(admin.ModelAdmin):
    """The security log: read only."""

    list_display = ["at", "outcome", "reason", "provider", "organisation", "hsa_id", "ip"]
    list_filter = ["outcome", "reason", "provider"]
    search_fields = ["hsa_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
