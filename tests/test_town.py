"""A town's own Hiroba: settings from the configuration, overridden on the admin page
(admin only, audited, validated), shown in the header, footer, titles, terms page, mails
and exports; the logo upload refuses anything but PNG/JPEG/WebP; the favicon."""

from __future__ import annotations

import email
import io
from email import policy

import pytest
import sqlalchemy as sa

from app import town
from app.mail import queue_mail
from deliberation.database import db
from deliberation.engine import escalation
from deliberation.errors import DomainError
from deliberation.models import AuditEntry, OutgoingMail, TownSetting
from deliberation.services import town as service
from tests import factories
from tests.races import committed_first

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa75"
       b"\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
EN = {"Accept-Language": "en"}


@pytest.fixture()
def configured(app, tmp_path):
    """Defaults as an operator sets them in the environment."""
    terms = tmp_path / "terms.md"
    terms.write_text("## 利用規約\n\n投稿は**公開**されます。", encoding="utf-8")
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    saved = {key: app.config.get(key) for key in (
        "TOWN_NAME", "TOWN_NAME_EN", "TOWN_OPERATOR", "TOWN_CONTACT", "TOWN_TERMS_FILE",
        "TOWN_LOGO_FILE")}
    app.config.update(TOWN_NAME="みなみ町", TOWN_NAME_EN="Minami Town",
                      TOWN_OPERATOR="みなみ町 企画課", TOWN_CONTACT="kikaku@minami.example.jp",
                      TOWN_TERMS_FILE=str(terms), TOWN_LOGO_FILE=str(logo))
    town.load_defaults(app)
    yield app
    app.config.update(saved)
    town.load_defaults(app)


def _form(**values):
    data = {field: "" for field in service.TEXT_FIELDS}
    data.update(values)
    return data


def test_configured_defaults_appear_on_the_pages(configured, client):
    page = client.get("/").get_data(as_text=True)
    assert "<title>" in page and "みなみ町" in page.split("<title>")[1].split("</title>")[0]
    assert '<span class="town-name">みなみ町</span>' in page
    assert "みなみ町 企画課" in page  # the footer
    assert 'href="/terms"' in page and "/town/logo?v=" in page
    english = client.get("/", headers=EN).get_data(as_text=True)
    assert "Minami Town" in english and "Minami Town Hiroba" in english
    terms = client.get("/terms").get_data(as_text=True)
    assert "<strong>公開</strong>" in terms and "kikaku@minami.example.jp" in terms
    logo = client.get("/town/logo")
    assert logo.status_code == 200 and logo.data == PNG
    assert logo.headers["Content-Type"] == "image/png"
    assert logo.headers["X-Content-Type-Options"] == "nosniff"


def test_settings_saved_twice_at_once_are_saved(client, login_as):
    """Two admins (or a double click) saving at the same moment: the other request added
    the same setting between this one's read of the settings and its insert."""
    login_as("admin")
    other = sa.insert(TownSetting).values(key="contact", value="other")
    with committed_first(TownSetting, lambda: other) as raced:
        response = client.post("/admin/town", data=_form(contact="電話 000-000-0000"))
    assert raced
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(TownSetting, "contact").value == "電話 000-000-0000"


def test_without_settings_the_pages_say_hiroba_only(client):
    page = client.get("/").get_data(as_text=True)
    assert "town-name" not in page and "town-logo" not in page
    assert client.get("/town/logo").status_code == 404
    terms = client.get("/terms")
    assert terms.status_code == 200
    assert "利用規約はまだ公開されていません" in terms.get_data(as_text=True)


def test_admin_overrides_the_defaults_and_it_is_audited(configured, client, login_as):
    admin = login_as("admin")
    page = client.get("/admin/town")
    assert page.status_code == 200 and "みなみ町" in page.get_data(as_text=True)  # the hint
    response = client.post("/admin/town", data=_form(
        name="きた市", name_en="Kita City", operator="きた市 市民協働課",
        contact="〒000-0000 きた市1-1\n電話 000-000-0000", terms="きた市の**規約**"))
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/town")
    home = client.get("/").get_data(as_text=True)
    assert "きた市" in home and "みなみ町" not in home and "きた市 市民協働課" in home
    assert "Kita City" in client.get("/", headers=EN).get_data(as_text=True)
    assert "きた市の<strong>規約</strong>" in client.get("/terms").get_data(as_text=True)
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "town.updated"))
    assert entry.actor_id == admin.id
    assert entry.details["changed"] == ["name", "name_en", "operator", "contact", "terms"]
    # An emptied field goes back to the configured default.
    client.post("/admin/town", data=_form(name_en="Kita City"))
    home = client.get("/").get_data(as_text=True)
    assert "みなみ町" in home and "みなみ町 企画課" in home
    assert db.session.scalars(sa.select(TownSetting.key)).all() == ["name_en"]


def test_an_empty_english_setting_says_the_japanese_one_is_shown(client, login_as):
    """English pages show the Japanese name, operator and terms when no English one is
    set, but the settings page told the administrator an empty English field showed
    nothing."""
    login_as("admin")
    client.post("/admin/town", data=_form(name="きた市", operator="きた市 市民協働課"))
    assert "きた市 市民協働課" in client.get("/", headers=EN).get_data(as_text=True)
    page = client.get("/admin/town", headers=EN).get_data(as_text=True)
    for name in ("name_en", "operator_en", "terms_en"):
        hint = page.split(f'id="{name}-hint"')[1].split("</")[0]
        assert "Japanese one on English pages" in hint, (name, hint)
    assert page.split('id="contact-hint"')[1].split("</")[0].endswith("Leave empty to show nothing.")


@pytest.mark.parametrize("role", ["citizen", "facilitator", "council"])
def test_only_admins_change_the_settings(client, login_as, role):
    login_as(role)
    assert client.get("/admin/town").status_code == 403
    response = client.post("/admin/town", data=_form(name="乗っ取り町"),
                           content_type="multipart/form-data")
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TownSetting)) == 0


def test_anonymous_is_sent_to_login(client, db):
    response = client.post("/admin/town", data=_form(name="x"))
    assert response.status_code in (302, 303) and "/auth/login" in response.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TownSetting)) == 0


def test_a_png_logo_is_stored_served_and_removed(client, login_as):
    login_as("admin")
    response = client.post("/admin/town", data={
        **_form(name="きた市"), "logo": (io.BytesIO(PNG), "logo.png")},
        content_type="multipart/form-data")
    assert response.status_code == 303
    home = client.get("/").get_data(as_text=True)
    version = service.stored_logo().version
    assert f"/town/logo?v={version}" in home
    served = client.get(f"/town/logo?v={version}")
    assert served.data == PNG and served.headers["Content-Type"] == "image/png"
    assert "immutable" in served.headers["Cache-Control"]
    client.post("/admin/town", data={**_form(name="きた市"), "remove_logo": "y"})
    assert client.get("/town/logo").status_code == 404


@pytest.mark.parametrize(("upload", "message"), [
    (SVG, "PNG、JPEG、WebP"),
    (b"GIF89a" + b"\x00" * 20, "PNG、JPEG、WebP"),
    (PNG + b"\x00" * 2000, "1 KB"),
    (b"", "空"),
])
def test_a_bad_logo_is_refused_and_nothing_is_stored(client, login_as, monkeypatch, upload,
                                                      message):
    # A small limit for the test: uploads over 500 KB make the test client spool to disk.
    monkeypatch.setattr(service, "LOGO_MAX_BYTES", 1024)
    login_as("admin")
    response = client.post("/admin/town", data={
        **_form(name="きた市"), "logo": (io.BytesIO(upload), "logo.png")},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TownSetting)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def test_a_bad_logo_error_is_in_english_for_english_readers(client, login_as):
    login_as("admin", locale="en")
    response = client.post("/admin/town", data={
        **_form(), "logo": (io.BytesIO(SVG), "logo.svg")}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "SVG is not accepted" in response.get_data(as_text=True)


def test_too_long_text_is_refused_with_a_translated_message(client, login_as):
    login_as("admin")
    response = client.post("/admin/town", data=_form(name="町" * 101, operator="ok"))
    assert response.status_code == 400
    assert "100" in response.get_data(as_text=True) and "文字" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TownSetting)) == 0


def test_control_characters_are_left_out_of_the_settings(client, login_as):
    """A NUL (which PostgreSQL refuses in text) or a right-to-left override pasted into a
    field is not stored; line breaks stay."""
    login_as("admin")
    response = client.post("/admin/town", data=_form(
        name="きた\x00市", operator="\u202eきた市 市民協働課",
        contact="〒000-0000 きた市1-1\r\n電話 000-000-0000"))
    assert response.status_code == 303
    assert service.overrides() == {"name": "きた市", "operator": "きた市 市民協働課",
                                   "contact": "〒000-0000 きた市1-1\n電話 000-000-0000"}


def test_the_settings_form_needs_csrf(client, login_as, csrf_app):
    login_as("admin")
    assert client.post("/admin/town", data=_form(name="きた市")).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TownSetting)) == 0


def test_the_real_size_limit():
    with pytest.raises(DomainError) as refused:
        service.check_logo(PNG + b"\x00" * service.LOGO_MAX_BYTES)
    assert refused.value.params == {"kb": 512}
    assert service.check_logo(PNG + b"\x00" * (service.LOGO_MAX_BYTES - len(PNG))) \
        == "image/png"


def test_logo_type_is_read_from_the_bytes():
    assert service.logo_media_type(PNG) == "image/png"
    assert service.logo_media_type(b"\xff\xd8\xff\xe0" + b"\x00" * 10) == "image/jpeg"
    assert service.logo_media_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert service.logo_media_type(SVG) is None
    assert service.logo_media_type(b"\x89PNG\r\n\x1a\n<svg>") is None


def test_an_svg_logo_file_in_the_configuration_is_not_used(app, tmp_path, client):
    bad = tmp_path / "logo.svg"
    bad.write_bytes(SVG)
    app.config["TOWN_LOGO_FILE"] = str(bad)
    try:
        town.load_defaults(app)
        assert client.get("/town/logo").status_code == 404
    finally:
        app.config["TOWN_LOGO_FILE"] = None
        town.load_defaults(app)


def test_mails_carry_the_town_in_the_sender_and_footer(configured, app, db):
    with app.test_request_context("/"):
        queue_mail(to="someone@example.org", purpose="test", template="test",
                   subject=lambda: "テスト", locale="ja")
        db.session.commit()
    row = db.session.scalar(sa.select(OutgoingMail))
    message = email.message_from_string(row.message, policy=policy.default)
    assert message["From"].addresses[0].display_name.startswith("みなみ町 ")
    body = message.get_body(("plain",)).get_content()
    assert "みなみ町 企画課" in body and "kikaku@minami.example.jp" in body
    assert "問い合わせ先：kikaku@minami.example.jp" in body  # no space after the Japanese colon


def test_exports_name_the_town(configured, client, login_as):
    council = login_as("council")
    round_ = factories.make_round()
    proposal = factories.make_proposal(round_, "駅前にベンチを")
    item = escalation.escalate_manually(proposal.id, actor=council, reason="要望が多い")
    dossier = client.get(f"/agenda/council/items/{item.id}/dossier").get_data(as_text=True)
    assert '<p class="dossier-town">みなみ町 · みなみ町 企画課</p>' in dossier
    body = client.get("/agenda/council/export.json").get_json()
    assert body["town"] == {"name": "みなみ町", "operator": "みなみ町 企画課",
                            "contact": "kikaku@minami.example.jp"}
    assert client.get("/agenda/council/export.json?lang=en").get_json()["town"]["name"] \
        == "Minami Town"


def test_favicon(client, db):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.data.startswith(b"\x00\x00\x01\x00")
    assert icon.headers["Content-Type"] == "image/vnd.microsoft.icon"
    with client.get("/static/favicon.svg") as svg:
        assert svg.status_code == 200 and svg.data.startswith(b"<svg")
    page = client.get("/").get_data(as_text=True)
    assert 'rel="icon" href="/favicon.ico"' in page and "favicon.svg" in page
