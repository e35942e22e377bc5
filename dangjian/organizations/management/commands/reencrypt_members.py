from django.core.management.base import BaseCommand
from django.db import transaction

from dangjian.audit.services import Actor, audit_record
from dangjian.core.crypto import search_hash
from dangjian.organizations.models import Member

BATCH = 500


class Command(BaseCommand):
    help = ("Key rotation: re-encrypt every member's ID number and phone under the current key (the first "
            "of FIELD_ENCRYPTION_KEYS) and recompute the ID numbers' search hash (after FIELD_SEARCH_KEY "
            "changed). Old keys must stay listed until this has run. One transaction; audited.")

    def handle(self, *args, **options):
        count = 0
        with transaction.atomic():
            members = Member.objects.only("pk", "id_number", "phone").order_by("pk").iterator(chunk_size=BATCH)
            batch = []
            for member in members:  # read with whichever listed key wrote them, written under the current one
                member.id_number_hash = search_hash(member.id_number, kind="id_number")
                batch.append(member)
                if len(batch) == BATCH:
                    count += Member.objects.bulk_update(batch, ["id_number", "phone", "id_number_hash"])
                    batch = []
            count += Member.objects.bulk_update(batch, ["id_number", "phone", "id_number_hash"])
            audit_record(by=Actor.system("命令行重新加密"), action="member.reencrypt",
                         note=f"{count} 名党员的身份证号和联系电话已用当前密钥重新加密")
        self.stdout.write(f"已用当前密钥重新加密 {count} 名党员的身份证号和联系电话。")
