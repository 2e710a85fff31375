"""The ledger in the back office: consent records and checkpoints, read-only, scoped to the user's sites."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from consent.models import Checkpoint, ConsentRecord, Cosignature
from consent.rules.geo import ResolutionMethod
from consent.tenancy.scoping import ReadOnlyAdminMixin, SiteScopedModelAdmin


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdminMixin, SiteScopedModelAdmin):
    """The ledger, read-only for everyone: it is evidence."""

    list_display = [
        "created_at",
        "site",
        "action",
        "jurisdiction",
        "language",
        "receipt_id",
        "is_redacted_display",
    ]
    list_filter = ["action", "jurisdiction", "ui_layer", "collection_method", "gpc"]
    search_fields = ["receipt_id", "visitor_id"]
    date_hierarchy = "created_at"
    list_select_related = ["site"]
    show_full_result_count = False  # counting a big ledger on every page load is wasted work
    # Every field, the location method by its label (the record keeps the code).
    readonly_fields = [
        "resolved_by_display" if field.name == "resolved_by" else field.name
        for field in ConsentRecord._meta.fields
    ]
    fields = readonly_fields

    @admin.display(description=_("location resolved by"))
    def resolved_by_display(self, record: ConsentRecord) -> str:
        method = record.resolved_by
        return ResolutionMethod(method).label if method in ResolutionMethod.values else method

    @admin.display(description=_("Redacted"), boolean=True)
    def is_redacted_display(self, record: ConsentRecord) -> bool:
        return record.is_redacted


class CosignatureInline(admin.TabularInline):
    """A checkpoint's witness cosignatures, read-only like the checkpoint."""

    model = Cosignature
    extra = 0
    can_delete = False
    fields = ["witness_name", "witnessed_at", "created_at", "signature_line"]
    readonly_fields = fields

    def has_view_permission(self, request: HttpRequest, obj: Checkpoint | None = None) -> bool:
        # Whoever may see the checkpoint (CheckpointAdmin scopes it to their sites) sees who witnessed it.
        return True

    def has_add_permission(self, request: HttpRequest, obj: Checkpoint | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Checkpoint | None = None) -> bool:
        return False


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdminMixin, SiteScopedModelAdmin):
    inlines = [CosignatureInline]
    list_display = ["created_at", "site", "tree_size", "root_hash", "key_id", "witnessed_display"]
    list_select_related = ["site"]
    readonly_fields = [
        "site",
        "tree_size",
        "root_hash",
        "created_at",
        "key_id",
        "signature",
        "note",
        "witnessed_display",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Checkpoint]:
        return super().get_queryset(request).prefetch_related("cosignatures")

    @admin.display(description=_("Witnesses"))
    def witnessed_display(self, checkpoint: Checkpoint) -> str:
        return "; ".join(
            gettext("witnessed by %(name)s at %(time)s")
            % {"name": c.witness_name, "time": f"{c.witnessed_at:%Y-%m-%d %H:%M:%S} UTC"}
            for c in checkpoint.cosignatures.all()
        )
