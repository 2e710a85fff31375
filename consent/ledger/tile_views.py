"""A site's log over HTTP as C2SP tlog-tiles: /log/<key>/checkpoint and /log/<key>/tile/...

Plain views: the answers are bytes (a signed note, hash tiles, entry bundles), public, read
by anyone (CORS `*`), and cached: a full tile never changes (a year, immutable), a partial
tile and the checkpoint change as the log grows (seconds). A tile beyond the tree is a 404
in the JSON error shape. consent_tiles_write writes the same files to a directory, for a
CDN or an object store to serve instead.
"""

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from consent.ledger.tiles import EntriesGone, TileNotFound, log_size, tile_read, tile_ref_parse
from consent.ledger.witnesses import checkpoint_note_cosigned
from consent.models import Checkpoint
from consent.sites.selectors import site_get_by_key
from edge.errors import json_error

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=10"


@require_safe
def log_checkpoint(request: HttpRequest, site_key: str) -> HttpResponseBase:
    """The site's newest checkpoint as a C2SP signed note, with every witness's cosignature."""
    site = site_get_by_key(key=site_key)
    checkpoint = (
        Checkpoint.objects.filter(site=site).exclude(note="").order_by("-tree_size").first() if site else None
    )
    if checkpoint is None:
        return _not_found(_("This site's log has no C2SP checkpoint yet."))
    response = HttpResponse(checkpoint_note_cosigned(checkpoint), content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = SHORT
    return response


@require_safe
def log_tile(request: HttpRequest, site_key: str, level: str, rest: str) -> HttpResponseBase:
    """One hash tile (level 0..7) or entry bundle ("entries") of the site's log."""
    site = site_get_by_key(key=site_key)
    if site is None:
        return _not_found(_("No such log."))
    try:
        ref = tile_ref_parse(level, rest)
        data = tile_read(site=site, ref=ref, tree_size=log_size(site))
    except EntriesGone:
        response = json_error(
            410,
            "gone",
            _("An entry in this bundle was removed by retention; its leaf hash stays in the tiles."),
        )
        response["Cache-Control"] = "no-store"
        return response
    except TileNotFound:
        return _not_found(_("No such tile in this log (beyond the tree, or not a tile path)."))
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Cache-Control"] = IMMUTABLE if ref.is_full else SHORT
    return response


def _not_found(message: str) -> HttpResponse:
    response = json_error(404, "not_found", message)
    response["Cache-Control"] = "no-store"
    return response
