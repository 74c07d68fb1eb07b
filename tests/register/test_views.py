"""Register pages per role: what each role may do, forged posts, uploads checked by content."""
import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from notifications.models import CallerNumber, Qualification, ReviewStatus, TtsTemplate, VoiceFile
from notifications.views.register import urlpatterns

from .helpers import make_qualification, make_template, make_voice_file, mp3_bytes, png_bytes, upload, wav_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.parametrize("pattern", urlpatterns, ids=lambda p: p.name)
def test_every_register_url_sends_anonymous_visitors_to_login(client, pattern):
    kwargs = {"pk": 1} if "<int:pk>" in str(pattern.pattern) else {}
    url = reverse(f"notifications:{pattern.name}", kwargs=kwargs)
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("prefix", ["qualification", "caller_number", "voice_file", "tts_template"])
def test_both_roles_see_lists_and_details(client, operator, manager, prefix):
    template = make_template(status=ReviewStatus.SUBMITTED)
    make_voice_file(qualification=template.qualification)
    CallerNumber.objects.create(number="057188880001", qualification=template.qualification)
    obj = {"qualification": Qualification, "caller_number": CallerNumber, "voice_file": VoiceFile, "tts_template": TtsTemplate}[prefix]
    pk = obj.objects.get().pk
    for user in (operator, manager):
        client.force_login(user)
        assert client.get(reverse(f"notifications:{prefix}_list"), {"q": ""}).status_code == 200
        assert client.get(reverse(f"notifications:{prefix}_detail", args=[pk])).status_code == 200


def test_list_search_and_filters_narrow_the_rows(client, operator):
    make_qualification(company_name="甲公司", status=ReviewStatus.APPROVED)
    make_qualification(company_name="乙公司", status=ReviewStatus.DRAFT)
    client.force_login(operator)
    page = client.get(reverse("notifications:qualification_list"), {"q": "乙"}).content.decode()
    assert "乙公司" in page and "甲公司" not in page
    page = client.get(reverse("notifications:qualification_list"), {"status": "approved"}).content.decode()
    assert "甲公司" in page and "乙公司" not in page


def test_operator_creates_a_qualification_with_a_licence_that_only_signed_in_users_can_open(client, operator):
    client.force_login(operator)
    response = client.post(
        reverse("notifications:qualification_create"),
        {
            "company_name": "杭州示例科技有限公司",
            "credit_code": "91350100m000100y43",
            "legal_representative": "王五",
            "contact_name": "李四",
            "contact_phone": "138 0013 8000",
            "purpose": "notification",
            "expires_on": "2030-06-30",
            "licence": upload("licence.png", png_bytes(), "image/png"),
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    qualification = Qualification.objects.get()
    assert (qualification.credit_code, qualification.contact_phone) == ("91350100M000100Y43", "13800138000")
    assert str(qualification.expires_on) == "2030-06-30"
    assert "2030-06-30" in client.get(reverse("notifications:qualification_detail", args=[qualification.pk])).content.decode()
    assert qualification.created_by == operator
    licence_url = reverse("notifications:qualification_licence", args=[qualification.pk])
    assert client.get(licence_url)["Content-Type"] == "image/png"
    client.post(reverse("notifications:qualification_transition", args=[qualification.pk]), {"action": "submit"})
    qualification.refresh_from_db()
    assert qualification.status == ReviewStatus.SUBMITTED
    client.logout()
    assert client.get(licence_url).status_code == 302
    client.force_login(User.objects.create_user("nobody"))
    assert client.get(licence_url).status_code == 403


def test_a_bad_credit_code_and_a_text_licence_are_shown_as_field_errors(client, operator):
    client.force_login(operator)
    response = client.post(
        reverse("notifications:qualification_create"),
        {
            "company_name": "x",
            "credit_code": "91350100M000100Y44",
            "legal_representative": "x",
            "contact_name": "x",
            "contact_phone": "13800138000",
            "purpose": "notification",
            "licence": upload("licence.pdf", b"just some text, not a PDF", "application/pdf"),
        },
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"credit_code", "licence"}
    assert not Qualification.objects.exists()


def test_manager_cannot_create_or_edit(client, manager):
    qualification = make_qualification(status=ReviewStatus.DRAFT)
    client.force_login(manager)
    refused = client.get(reverse("notifications:qualification_create"), headers={"accept-language": "en"})
    assert refused.status_code == 403 and "Your role does not allow this page or action." in refused.content.decode()
    assert client.post(reverse("notifications:qualification_update", args=[qualification.pk]), {"company_name": "x"}).status_code == 403


def test_an_approved_template_cannot_be_edited_but_can_be_copied(client, operator):
    template = make_template(status=ReviewStatus.APPROVED, tts_code="TTS_1")
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("notifications:tts_template_update", args=[template.pk]), {"name": "changed"})
    assert response.status_code == 409
    page = response.content.decode()
    assert "is locked" in page and "Your role" not in page  # the state refused, not the role
    response = client.post(reverse("notifications:tts_template_transition", args=[template.pk]), {"action": "copy"})
    copy = TtsTemplate.objects.exclude(pk=template.pk).get()
    assert response["Location"] == reverse("notifications:tts_template_detail", args=[copy.pk])
    assert (copy.status, copy.copied_from, copy.content, copy.tts_code) == (ReviewStatus.DRAFT, template, template.content, "")
    template.refresh_from_db()
    assert template.name == "发货通知"


def test_template_form_lists_every_broken_rule_and_derives_variables(client, operator):
    qualification = make_qualification()
    client.force_login(operator)
    url = reverse("notifications:tts_template_create")
    data = {"name": "t", "kind": "verification", "mode": "public", "qualification": qualification.pk, "content": "请访问http链接${a}${b}"}
    response = client.post(url, data)
    assert response.status_code == 200
    assert len(response.context["form"].errors["content"]) >= 3
    response = client.post(url, data | {"content": "您的验证码是${code}，5分钟内有效。"})
    assert TtsTemplate.objects.get().variables == ["code"]


def test_detail_page_shows_a_preview_with_sample_values(client, operator):
    template = make_template(content="您的验证码是${code}，请勿泄露。", kind="verification", variables=["code"])
    client.force_login(operator)
    assert "您的验证码是123456，请勿泄露。" in client.get(reverse("notifications:tts_template_detail", args=[template.pk])).content.decode()


def test_operator_submits_and_manager_records_the_decision_through_the_pages(client, operator, manager):
    template = make_template()
    url = reverse("notifications:tts_template_transition", args=[template.pk])
    client.force_login(operator)
    assert client.post(url, {"action": "submit"}).status_code == 302
    assert client.post(url, {"action": "approve", "code": "TTS_5"}).status_code == 403
    client.force_login(manager)
    response = client.post(url, {"action": "approve", "code": ""})
    assert response.status_code == 200 and response.context["decision_form"].errors["code"]
    assert client.post(url, {"action": "approve", "code": "TTS_5"}).status_code == 302
    template.refresh_from_db()
    assert (template.status, template.tts_code) == (ReviewStatus.APPROVED, "TTS_5")


def test_forged_posts_change_nothing(client, operator, manager):
    template = make_template(status=ReviewStatus.APPROVED, tts_code="TTS_1")
    client.force_login(operator)
    assert client.post(reverse("notifications:tts_template_transition", args=[template.pk]), {"action": "submit"}).status_code == 403
    assert client.post(reverse("notifications:tts_template_transition", args=[99999]), {"action": "submit"}).status_code == 404
    client.force_login(manager)
    url = reverse("notifications:tts_template_transition", args=[template.pk])
    assert client.post(url, {"action": "reject", "reason": "x"}).status_code == 403
    template.refresh_from_db()
    assert template.status == ReviewStatus.APPROVED


def test_manager_activates_a_number_and_operator_cannot(client, operator, manager):
    number = CallerNumber.objects.create(number="057188880001", qualification=make_qualification())
    url = reverse("notifications:caller_number_transition", args=[number.pk])
    client.force_login(operator)
    assert client.post(url, {"status": "active"}).status_code == 403
    client.force_login(manager)
    assert client.post(url, {"status": "active"}).status_code == 302
    assert client.post(url, {"status": "pending"}).status_code == 403
    assert CallerNumber.objects.get().status == CallerNumber.Status.ACTIVE


def test_caller_numbers_are_normalised_and_special_numbers_checked(client, operator):
    qualification = make_qualification()
    client.force_login(operator)
    url = reverse("notifications:caller_number_create")
    base = {"number_type": "landline", "qualification": qualification.pk, "purpose": "notification", "monthly_rent": "50"}
    assert client.post(url, base | {"number": "0571-8888 0001"}).status_code == 302
    assert client.post(url, base | {"number": "138 0013 8000"}).status_code == 302
    response = client.post(url, base | {"number": "4001234", "number_type": "400"})
    assert response.context["form"].errors["number"]
    assert client.post(url, base | {"number": "400-123-4567", "number_type": "400"}).status_code == 302
    assert dict(CallerNumber.objects.values_list("number", "number_type")) == {
        "057188880001": "landline",
        "13800138000": "mobile",
        "4001234567": "400",
    }


def _upload_voice(client, qualification, filename, data):
    return client.post(
        reverse("notifications:voice_file_create"),
        {"name": "提示音", "mode": "public", "qualification": qualification.pk, "audio": upload(filename, data, "audio/wav")},
    )


@pytest.mark.parametrize(("filename", "data", "audio_format"), [("tone.wav", wav_bytes(), "wav"), ("tone.mp3", mp3_bytes(), "mp3")])
def test_real_recordings_are_accepted_described_and_playable(client, operator, filename, data, audio_format):
    client.force_login(operator)
    assert _upload_voice(client, make_qualification(), filename, data).status_code == 302
    voice_file = VoiceFile.objects.get()
    assert voice_file.audio_format == audio_format and voice_file.duration_seconds > 0 and voice_file.size_bytes == len(data)
    assert len(voice_file.sha256) == 64
    page = client.get(reverse("notifications:voice_file_detail", args=[voice_file.pk])).content.decode()
    audio_url = reverse("notifications:voice_file_audio", args=[voice_file.pk])
    assert f'src="{audio_url}"' in page
    assert b"".join(client.get(audio_url).streaming_content) == data


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("notes.wav", "这不是录音".encode() * 10),
        ("big.wav", wav_bytes(seconds=140)),
        ("empty.wav", b""),
        ("broken.wav", wav_bytes()[:30]),
        ("broken.mp3", b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(100)),
    ],
)
def test_lying_oversized_empty_or_corrupt_uploads_are_refused_with_a_reason(client, operator, filename, data):
    client.force_login(operator)
    response = _upload_voice(client, make_qualification(), filename, data)
    assert response.status_code == 200
    assert response.context["form"].errors["audio"]
    assert not VoiceFile.objects.exists()


def test_a_rejected_template_can_be_corrected(client, operator):
    template = make_template(status=ReviewStatus.REJECTED, reject_reason="含营销内容")
    client.force_login(operator)
    data = {"name": "发货通知", "kind": "notification", "mode": "public", "qualification": template.qualification_id}
    url = reverse("notifications:tts_template_update", args=[template.pk])
    response = client.post(url, data | {"content": "您好${name}，订单已发货。"})
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.content == "您好${name}，订单已发货。" and template.status == ReviewStatus.REJECTED


def test_editing_a_draft_voice_file_without_a_new_upload_keeps_the_recording(client, operator):
    client.force_login(operator)
    qualification = make_qualification()
    _upload_voice(client, qualification, "tone.wav", wav_bytes())
    voice_file = VoiceFile.objects.get()
    data = {"name": "新名字", "mode": "dedicated", "qualification": qualification.pk}
    assert client.post(reverse("notifications:voice_file_update", args=[voice_file.pk]), data).status_code == 302
    updated = VoiceFile.objects.get()
    assert (updated.name, updated.audio.name, updated.sha256) == ("新名字", voice_file.audio.name, voice_file.sha256)


def test_keep_the_file_hint_shows_only_when_editing_with_a_file_to_keep(db):
    from django.utils import translation

    from notifications.forms.register import QualificationForm, VoiceFileForm

    with translation.override("en"):
        assert "Leave empty" not in str(QualificationForm().fields["licence"].help_text)
        assert "Leave empty" not in str(QualificationForm(instance=make_qualification()).fields["licence"].help_text)
        scanned = make_qualification(licence="licences/scan.png")
        assert "Leave empty" in str(QualificationForm(instance=scanned).fields["licence"].help_text)
        # A new voice file needs its recording; editing one does not ask for it again (no "required" mark).
        assert VoiceFileForm().fields["audio"].required
        edited = VoiceFileForm(instance=make_voice_file())
        assert not edited.fields["audio"].required and "Leave empty" in str(edited.fields["audio"].help_text)


def test_a_caller_number_edited_in_chinese_keeps_its_dates(client, operator):
    """The date pickers need ISO values: in the locale's 2026/01/01 the browser shows them empty and saving erases them."""
    from datetime import date

    number = CallerNumber.objects.create(
        number="057188880001", qualification=make_qualification(), purchased_on=date(2026, 1, 1), expires_on=date(2027, 1, 1)
    )
    client.force_login(operator)
    client.cookies["django_language"] = "zh-hans"
    url = reverse("notifications:caller_number_update", args=[number.pk])
    page = client.get(url).content.decode()
    assert 'type="date" name="purchased_on" value="2026-01-01"' in page
    assert 'type="date" name="expires_on" value="2027-01-01"' in page
    data = {"number": "057188880001", "number_type": "landline", "qualification": number.qualification_id,
            "purpose": "notification", "monthly_rent": "0", "purchased_on": "2026-01-01", "expires_on": "2027-01-01"}
    assert client.post(url, data).status_code == 302
    number.refresh_from_db()
    assert (number.purchased_on, number.expires_on) == (date(2026, 1, 1), date(2027, 1, 1))


def test_a_negative_monthly_rent_is_a_field_error(client, operator):
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    data = {"number": "057188880002", "number_type": "landline", "qualification": make_qualification().pk,
            "purpose": "notification", "monthly_rent": "-5"}
    response = client.post(reverse("notifications:caller_number_create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["monthly_rent"] == ["Ensure this value is greater than or equal to 0."]
    assert not CallerNumber.objects.exists()


def test_the_review_card_keeps_an_earlier_rejection_apart_from_the_resubmission(client, operator, manager):
    import re

    from notifications.services.review import resource_record_decision, resource_submit

    template = make_template()
    resource_submit(resource=template, user=operator)
    resource_record_decision(resource=template, approved=False, reason="含营销内容", decided_by=manager)
    resource_submit(resource=template, user=operator)
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("notifications:tts_template_detail", args=[template.pk])).content.decode()
    card = re.sub(r"\s+", " ", page.split('class="va-timeline')[1].split("</ul>")[0])
    assert re.search(r"Created .*</li>.*Rejected \d{4}-\d\d-\d\d \d\d:\d\d, recorded by manager</li>.*Submitted .* by operator</li>", card)
    assert "Submitted for review" not in card  # the waiting state is not shown as a decision
    resource_record_decision(resource=template, approved=True, code="TTS_1", decided_by=manager)
    card = client.get(reverse("notifications:tts_template_detail", args=[template.pk])).content.decode()
    assert card.count("recorded by manager") == 1 and "Approved" in card.split('class="va-timeline')[1].split("</ul>")[0]


def test_every_form_is_styled_and_a_field_in_error_is_marked_itself(client, operator):
    import re

    login = client.get(reverse("login")).content.decode()
    for name in ("username", "password"):
        assert re.search(rf'<input type="\w+" name="{name}"[^>]* class="form-control"', login)
    client.force_login(operator)
    data = {"number": "057188880002", "number_type": "landline", "qualification": make_qualification().pk,
            "purpose": "notification", "monthly_rent": "-5"}
    page = client.post(reverse("notifications:caller_number_create"), data).content.decode()
    rent = re.search(r'<input type="number" name="monthly_rent"[^>]*>', page).group(0)
    assert 'class="form-control is-invalid"' in rent and 'aria-invalid="true"' in rent
    number = re.search(r'<input type="text" name="number"[^>]*>', page).group(0)
    assert 'class="form-control"' in number and "aria-invalid" not in number
    assert '<select name="purpose" class="form-select"' in page


def test_a_file_too_large_is_refused_in_sizes_people_read(client, operator):
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    data = {"company_name": "x", "credit_code": "91350100M000100Y43", "legal_representative": "x", "contact_name": "x",
            "contact_phone": "13800138000", "purpose": "notification",
            "licence": upload("licence.png", png_bytes() + b"\0" * (6 * 1024 * 1024), "image/png")}
    response = client.post(reverse("notifications:qualification_create"), data)
    assert response.context["form"].errors["licence"] == ["The file is 6.0\xa0MB; at most 5.0\xa0MB is accepted."]
    assert not Qualification.objects.exists()


def test_a_credit_code_or_number_registered_twice_is_a_field_error(client, operator):
    qualification = make_qualification()
    CallerNumber.objects.create(number="057188880001", qualification=qualification)
    client.force_login(operator)
    client.cookies["django_language"] = "zh-hans"
    data = {"company_name": "x", "credit_code": qualification.credit_code, "legal_representative": "x", "contact_name": "x",
            "contact_phone": "13800138000", "purpose": "notification"}
    form = client.post(reverse("notifications:qualification_create"), data).context["form"]
    assert form.errors["credit_code"] == ["该统一社会信用代码的资质已登记。"]
    data = {"number": "0571-88880001", "number_type": "landline", "qualification": qualification.pk, "purpose": "notification",
            "monthly_rent": "0"}
    form = client.post(reverse("notifications:caller_number_create"), data).context["form"]
    assert form.errors["number"] == ["该号码已登记。"]
