"""Demo users (one per role, random passwords printed once) and a demo register in every state; safe to run again."""
import io
import math
import random
import secrets
import struct
import uuid
import wave
import zlib
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from notifications.audio import inspect_voice_upload
from notifications.management.commands import seed_calls
from notifications.models import (
    CallerNumber,
    CallRecord,
    Campaign,
    Mode,
    Purpose,
    Qualification,
    ReviewStatus,
    TtsTemplate,
    VoiceFile,
)
from notifications.roles import MANAGERS, OPERATORS
from notifications.rules.company_clock import company_today
from notifications.rules.identifiers import credit_code_check_char
from notifications.rules.templates import extract_variables
from notifications.services import provider_sync
from notifications.services.campaign_check import campaign_check
from notifications.services.campaign_create import campaign_create
from notifications.services.campaign_flow import campaign_submit
from notifications.services.stats import daily_stats_rebuild

# The first login shows a week of traffic, as the README's screenshot does: a few dozen calls, all within the
# dashboard's default seven days.
DEMO_CALLS = 48
DEMO_CALL_DAYS = 6
USERS = (("operator", OPERATORS, False), ("manager", MANAGERS, False), ("admin", None, True))
# A campaign waiting for the manager's approval: its list as Excel in China saves a CSV (GBK), with two rows the check
# refuses (a number Excel shortened, the same customer twice), so the check summary has something to show.
DEMO_CAMPAIGN = "发货延迟通知（示例）"
DEMO_CAMPAIGN_ROWS = (
    ("手机号", "name", "date"),
    *((f"1390000{serial:04d}", surname + "先生", "12月8日") for serial, surname in
      zip(range(2001, 2011), "赵钱孙李周吴郑王冯陈", strict=True)),
    ("1.39E+10", "褚女士", "12月8日"),
    ("139 0000 2001", "赵先生", "12月8日"),
)


def tone_wav(frequency: float, seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A short sine tone as 8 kHz, 16-bit mono PCM: the format the provider plays best."""
    frames = b"".join(
        struct.pack("<h", int(12000 * math.sin(2 * math.pi * frequency * i / rate))) for i in range(int(seconds * rate))
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return buffer.getvalue()


def licence_png(width: int = 320, height: int = 200) -> bytes:
    """A plain grey card with a dark border as an 8-bit greyscale PNG: the demo's stand-in for a licence scan."""
    def row(y: int) -> bytes:
        edge = y < 6 or y >= height - 6
        return b"\x00" + bytes(60 if edge or x < 6 or x >= width - 6 else 225 for x in range(width))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(row(y) for y in range(height)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def demo_credit_code(serial: int) -> str:
    first17 = f"91330100MA{serial:06d}X"[:17]
    return first17 + credit_code_check_char(first17)


QUALIFICATIONS = (
    # (serial, company, status, reason)
    (1, "杭州示例科技有限公司", ReviewStatus.APPROVED, ""),
    (2, "上海演示物流有限公司", ReviewStatus.SUBMITTED, ""),
    (3, "北京样例电子商务有限公司", ReviewStatus.DRAFT, ""),
    (4, "深圳测试网络有限公司", ReviewStatus.REJECTED, "营业执照照片不清晰，请重新上传。"),
)
NUMBERS = (
    # (number, type, province, city, qualification serial, status)
    ("057188880001", CallerNumber.Type.LANDLINE, "浙江", "杭州", 1, CallerNumber.Status.ACTIVE),
    ("057188880002", CallerNumber.Type.LANDLINE, "浙江", "杭州", 1, CallerNumber.Status.ACTIVE),
    ("4001234567", CallerNumber.Type.SPECIAL_400, "浙江", "杭州", 1, CallerNumber.Status.SUSPENDED),
    ("02166660001", CallerNumber.Type.LANDLINE, "上海", "上海", 2, CallerNumber.Status.PENDING),
    ("057188880009", CallerNumber.Type.LANDLINE, "浙江", "杭州", 1, CallerNumber.Status.RELEASED),
)
VOICE_FILES = (
    # (name, tone Hz, mode, status): approved files get a VoiceCode
    ("发货提醒提示音", 440, Mode.PUBLIC, ReviewStatus.APPROVED),
    ("专属线路欢迎语", 523, Mode.DEDICATED, ReviewStatus.APPROVED),
    ("促销活动录音", 660, Mode.PUBLIC, ReviewStatus.REJECTED),
    ("新版本通知录音", 392, Mode.PUBLIC, ReviewStatus.SUBMITTED),
    ("草稿录音", 330, Mode.DEDICATED, ReviewStatus.DRAFT),
)
TEMPLATES = (
    # (name, content, kind, mode, status, code)
    ("登录验证码", "您的登录验证码是${code}，5分钟内有效，请勿告诉他人。", Purpose.VERIFICATION, Mode.PUBLIC,
     ReviewStatus.APPROVED, "TTS_100001"),
    ("发货通知", "尊敬的${name}，您的订单已发货，预计${date}送达。", Purpose.NOTIFICATION, Mode.PUBLIC,
     ReviewStatus.APPROVED, "TTS_100002"),
    ("预约提醒", "您好${name}，您预约的服务在${time}开始，地点在${place}，请准时到达。", Purpose.NOTIFICATION, Mode.DEDICATED,
     ReviewStatus.APPROVED, "TTS_100003"),
    ("注册验证码", "欢迎注册示例平台，您的注册码是${code}。", Purpose.VERIFICATION, Mode.DEDICATED, ReviewStatus.APPROVED, "TTS_100004"),
    ("账单提醒", "您本月的账单金额为${amount}元，请按时缴费。", Purpose.NOTIFICATION, Mode.PUBLIC, ReviewStatus.SUBMITTED, ""),
    ("活动邀请", "您好，诚邀您参加本周六的会员活动。", Purpose.NOTIFICATION, Mode.PUBLIC, ReviewStatus.REJECTED, ""),
    ("停机通知草稿", "您好${name}，系统将于今晚维护。", Purpose.NOTIFICATION, Mode.PUBLIC, ReviewStatus.DRAFT, ""),
)


class Command(BaseCommand):
    help = "Create demo users (passwords printed) and a demo register; running it again creates nothing new."

    def add_arguments(self, parser):
        parser.add_argument("--reset-passwords", action="store_true", help="Give the existing demo users new random passwords.")

    def handle(self, *args, reset_passwords: bool = False, **options):
        with transaction.atomic():
            users = self._users(reset_passwords)
            created = self._register(users)
        self.stdout.write(self.style.SUCCESS(f"Demo register: {created} new item(s)." if created else "Demo register already present."))
        calls = self._calls(users)
        self.stdout.write(f"Demo call history: {calls} call(s) over the last {DEMO_CALL_DAYS} days." if calls
                          else "Calls already present; no demo calls added.")
        campaign = self._campaign(users)
        if campaign is not None:
            summary = campaign.check_summary
            self.stdout.write(f"Demo campaign {campaign.name!r}: {summary['valid']} row(s) to call, {summary['refused']} "
                              "refused by the check, waiting for the manager's approval.")
        if provider_sync.is_enabled():
            provider_sync.publish_account()
            self.stdout.write("Published the approved register to the simulator.")

    def _users(self, reset_passwords: bool) -> dict[str, User]:
        users = {}
        for username, group, is_superuser in USERS:
            user = User.objects.filter(username=username).first()
            password = secrets.token_urlsafe(12)
            if user is None:
                if is_superuser:
                    user = User.objects.create_superuser(username=username, email=f"{username}@example.com", password=password)
                else:
                    user = User.objects.create_user(username=username, password=password)
                self.stdout.write(f"Created user {username!r} with password {password}")
            elif reset_passwords:
                user.set_password(password)
                user.save(update_fields=["password"])
                self.stdout.write(f"New password for {username!r}: {password}")
            else:
                self.stdout.write(f"User {username!r} exists; password kept (use --reset-passwords for a new one).")
            if group:
                user.groups.add(Group.objects.get(name=group))
            users[username] = user
        return users

    def _review(self, obj, status: str, users: dict[str, User], reason: str = "") -> None:
        now = timezone.now()
        obj.status = status
        obj.created_by = users["operator"]
        if status != ReviewStatus.DRAFT:
            obj.submitted_by, obj.submitted_at = users["operator"], now
        if status in (ReviewStatus.APPROVED, ReviewStatus.REJECTED):
            obj.reviewed_by, obj.reviewed_at = users["manager"], now
            obj.reject_reason = reason or ("" if status == ReviewStatus.APPROVED else "内容含营销信息，不符合语音通知规范。")

    def _register(self, users: dict[str, User]) -> int:
        created = 0
        qualifications = {}
        for serial, company, status, reason in QUALIFICATIONS:
            code = demo_credit_code(serial)
            qualification = Qualification.objects.filter(credit_code=code).first()
            if qualification is None:
                qualification = Qualification(
                    company_name=company,
                    credit_code=code,
                    legal_representative="王示例",
                    contact_name="李联系",
                    contact_phone=f"1380000000{serial}",
                )
                self._review(qualification, status, users, reason)
                if status != ReviewStatus.DRAFT:  # nothing goes to review without its licence scan
                    qualification.licence.save("licence.png", ContentFile(licence_png()), save=False)
                qualification.save()
                created += 1
            qualifications[serial] = qualification

        for number, number_type, province, city, serial, status in NUMBERS:
            _, was_created = CallerNumber.objects.get_or_create(
                number=number,
                defaults={
                    "number_type": number_type,
                    "province": province,
                    "city": city,
                    "qualification": qualifications[serial],
                    "status": status,
                    "monthly_rent": Decimal("50.00"),
                    "purchased_on": date(2026, 1, 1),
                    # A year from today, so the demo numbers stay dialable (a number past its expiry date is refused).
                    "expires_on": company_today() + timedelta(days=365),
                    "created_by": users["operator"],
                },
            )
            created += was_created

        approved_qualification = qualifications[1]
        for name, frequency, mode, status in VOICE_FILES:
            if VoiceFile.objects.filter(name=name, qualification=approved_qualification).exists():
                continue
            upload = ContentFile(tone_wav(frequency), name="tone.wav")
            info = inspect_voice_upload(upload)
            voice_file = VoiceFile(
                name=name,
                mode=mode,
                qualification=approved_qualification,
                audio_format=info.audio_format,
                duration_seconds=info.duration_seconds,
                size_bytes=info.size_bytes,
                sha256=info.sha256,
                voice_code=f"{uuid.uuid4()}.wav" if status == ReviewStatus.APPROVED else "",
            )
            voice_file.audio.save(f"{info.sha256[:16]}.wav", upload, save=False)
            self._review(voice_file, status, users)
            voice_file.save()
            created += 1

        for name, content, kind, mode, status, code in TEMPLATES:
            if TtsTemplate.objects.filter(name=name, qualification=approved_qualification).exists():
                continue
            template = TtsTemplate(
                name=name,
                content=content,
                kind=kind,
                mode=mode,
                qualification=approved_qualification,
                variables=extract_variables(content),
                tts_code=code,
            )
            self._review(template, status, users)
            template.save()
            created += 1
        return created

    def _campaign(self, users: dict[str, User]) -> Campaign | None:
        """The demo campaign, through the same services as the pages, into a database with no campaign yet."""
        if Campaign.objects.exists():
            return None
        template = TtsTemplate.objects.get(tts_code="TTS_100002")
        body = "\r\n".join(",".join(row) for row in DEMO_CAMPAIGN_ROWS).encode("gbk")
        with transaction.atomic():
            campaign = campaign_create(name=DEMO_CAMPAIGN, user=users["operator"], tts_template=template,
                                       uploaded_file=ContentFile(body, name="发货延迟名单.csv"))
            campaign.refresh_from_db()
            campaign_check(campaign, campaign.mapping)
            campaign_submit(campaign, users["operator"])
        campaign.refresh_from_db()
        return campaign

    def _calls(self, users: dict[str, User]) -> int:
        """A short call history with final receipts (seed_calls' outcome mix), only into a database with no calls yet."""
        if CallRecord.objects.exists():
            return 0
        loader = seed_calls.Command()
        rng = random.Random(20260101)
        resources = loader._resources()
        requesters = [users["operator"].pk, users["manager"].pk]
        # Ending a quarter of an hour ago: the calls are over, so none waits on the simulator for a receipt.
        now = timezone.now() - timedelta(minutes=15)
        with transaction.atomic():
            rows = [loader._row(rng, pk, now, resources, requesters, days=DEMO_CALL_DAYS) for pk in range(1, DEMO_CALLS + 1)]
            loader._write([record for record, _event in rows], [event for _record, event in rows if event])
            if connection.vendor == "postgresql":  # the rows carry their ids: the next real call takes the one after
                with connection.cursor() as cursor:
                    cursor.execute("SELECT setval(pg_get_serial_sequence('notifications_callrecord', 'id'), %s)", [DEMO_CALLS])
            daily_stats_rebuild()
        return DEMO_CALLS
