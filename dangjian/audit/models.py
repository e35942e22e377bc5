from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    """One write (or sensitive read) in the platform. Append-only: database triggers refuse UPDATE
    and DELETE (migration 0002), and each entry carries an HMAC over its content and the previous
    entry's HMAC, with a key kept outside the database, so an edited or removed row breaks the chain
    and `audit_verify` names it."""

    seq = models.PositiveBigIntegerField("序号", unique=True)
    at = models.DateTimeField("时间", db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_constraint=False,  # entries outlive accounts; the name below is kept for reading
    )
    actor_name = models.CharField("操作人", max_length=150)
    roles = models.CharField("角色", max_length=300, blank=True)
    source_ip = models.GenericIPAddressField("来源地址", null=True, blank=True)
    action = models.CharField("操作", max_length=64, db_index=True)
    object_type = models.CharField("对象类型", max_length=64, blank=True, db_index=True)
    object_id = models.CharField("对象编号", max_length=64, blank=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    before = models.JSONField("变更前", null=True, blank=True)
    after = models.JSONField("变更后", null=True, blank=True)
    note = models.CharField("说明", max_length=300, blank=True)
    prev_mac = models.CharField(max_length=64)
    mac = models.CharField(max_length=64)

    class Meta:
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"
        ordering = ["-seq"]
        indexes = [
            # One record's trail, newest first (a member's page): read off this index, not by
            # walking every entry of the record's type (object_type alone is indexed above).
            models.Index(fields=["object_type", "object_id", "seq"], name="audit_object_trail_idx"),
        ]

    def __str__(self):
        return f"#{self.seq} {self.actor_name} {self.action} {self.object_repr}"


class AuditHead(models.Model):
    """The chain's head, one row. Writers lock it (select_for_update) so entries get consecutive
    sequence numbers and each links to the true previous entry, on PostgreSQL as on SQLite.
    `head_mac` authenticates (seq, mac) with the chain's key: cutting the tail and rewinding the
    head to an earlier entry, or wiping every entry and resetting the head, no longer verifies.
    A head copied from an earlier state (an old backup) still would: the signed checkpoints kept
    outside the database (`audit_checkpoint`, `audit_verify --checkpoints`) catch that."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    mac = models.CharField(max_length=64, default="0" * 64)
    head_mac = models.CharField(max_length=64, blank=True, default="")
    # How many appends changed records (all but services.READS: log-ins, searches, exports): the
    # records' version for results kept until the next write (core.datacache). Outside the MACs.
    data_seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(name="audit_head_single_row", condition=models.Q(id=1))]

    def __str__(self):
        return f"audit head #{self.seq}"
