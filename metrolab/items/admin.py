"""Back office for the items' master data: storage places and the numbering rule (R6.6a,d)."""

from django.contrib import admin

from metrolab.items.models import ItemNumberRule, StorageLocation


@admin.register(StorageLocation)
class StorageLocationAdmin(admin.ModelAdmin):
    list_display = ["code", "room", "shelf", "active"]
    list_filter = ["active", "room"]
    search_fields = ["code", "room", "shelf"]

    def has_delete_permission(self, request, obj=None):
        # Places named in custody events stay (retire them with "active" instead).
        return False


@admin.register(ItemNumberRule)
class ItemNumberRuleAdmin(admin.ModelAdmin):
    """One rule. Changing it affects numbers given from now on; numbers given before stay."""

    list_display = ["prefix", "year_digits", "sequence_digits", "check_digit"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not ItemNumberRule.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
