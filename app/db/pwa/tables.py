"""What phones report about their offline outbox (the heartbeat)."""

from piccolo.columns import ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

from app.db.org.tables import User


class OutboxHeartbeat(Table, tablename="outbox_heartbeat"):
    """The last report of one phone (``device_id``) for one user: how many records it still holds.

    ``device_key`` is ``"<user id>:<device id>"`` (one row per user and phone, upserted).
    ``unit_path`` is the user's unit path at report time, so scopes filter by prefix.
    """

    device_key = Varchar(length=100, unique=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade)
    device_id = Varchar(length=64)
    unit_path = Varchar(
        length=255, null=True, default=None, index=True, index_method=IndexMethod.btree
    )
    pending = Integer(default=0)
    oldest_at = Timestamptz(null=True, default=None)
    reported_at = Timestamptz()
