"""AttachmentStore on a real SQLite file: what it accepts, whose files it finds, what a model
reads. Types are told by their bytes, names are cleaned, and one user never reaches, removes or
claims another's files."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update

from gradio_portal import MessageRejected, PortalSettings
from gradio_portal.chat.attachments import (
    MAX_FILENAME_CHARS,
    TRUNCATED,
    AttachmentStore,
    StoredAttachment,
    clean_filename,
    describe_size,
    image_parts,
    image_type,
    model_text,
)
from gradio_portal.chat.backends import ImagePart
from gradio_portal.settings import DEFAULT_TEXT_TYPES
from gradio_portal.storage import Database, upgrade
from gradio_portal.storage.models import AccountRow, Attachment, Conversation, Message, utcnow

ALICE, BOB = 1, 2
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
GIF = b"GIF89a" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><script>alert(document.cookie)</script>"


@pytest.fixture
def database(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    upgrade(url)
    database = Database(url)
    with database.session() as session:
        session.add_all(
            [
                AccountRow(username=name, display_name=name, password_hash=None)
                for name in ("a", "b")
            ]
        )
    return database


@pytest.fixture
def store(database: Database) -> AttachmentStore:
    return AttachmentStore(database, max_bytes=1000, max_files=3)


def message_of(database: Database, user_id: int) -> tuple[int, int]:
    """A new conversation of the user's with one user message: (conversation id, message id)."""
    with database.session() as session:
        conversation = Conversation(user_id=user_id, title="t")
        session.add(conversation)
        session.flush()
        message = Message(conversation_id=conversation.id, role="user", content="see files")
        session.add(message)
        session.flush()
        return conversation.id, message.id


def attachment_count(database: Database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(Attachment)) or 0)


# -- what is accepted -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "media_type"),
    [(PNG, "image/png"), (JPEG, "image/jpeg"), (GIF, "image/gif"), (WEBP, "image/webp")],
)
def test_images_are_told_by_their_bytes_whatever_their_name(
    store: AttachmentStore, data: bytes, media_type: str
) -> None:
    assert image_type(data) == media_type
    for name in ("picture.png", "picture.txt", "picture"):
        checked = store.check(name, data)
        assert (checked.kind, checked.media_type, checked.data) == ("image", media_type, data)
        assert checked.text is None


@pytest.mark.parametrize("name", ["photo.png", "photo.jpg", "photo.gif", "photo.webp"])
def test_html_renamed_as_an_image_is_refused(store: AttachmentStore, name: str) -> None:
    with pytest.raises(MessageRejected, match=f"{name} is not a PNG, JPEG, GIF or WebP image"):
        store.check(name, HTML)
    assert store.kind(name, HTML) is None


def test_svg_is_never_an_image(store: AttachmentStore) -> None:
    assert image_type(SVG) is None
    with pytest.raises(MessageRejected, match="SVG is not accepted"):
        store.check("logo.svg", SVG)


def test_an_unknown_type_names_what_the_chat_reads(store: AttachmentStore) -> None:
    with pytest.raises(MessageRejected) as caught:
        store.check("report.pdf", b"%PDF-1.7 ...")
    assert str(caught.value) == (
        "report.pdf is not a type the chat reads: attach text or code files "
        "(.txt, .md, .csv, .json, .py, ...) or images (PNG, JPEG, GIF, WebP)."
    )


def test_text_files_by_extension_or_whole_name(store: AttachmentStore) -> None:
    checked = store.check("notes.MD", "# Café\n".encode())
    assert (checked.kind, checked.media_type, checked.text) == ("text", "text/markdown", "# Café\n")
    assert checked.size == len("# Café\n".encode())
    assert store.check("Dockerfile", b"FROM python:3.12\n").kind == "text"
    assert store.check("main.rs", b"fn main() {}\n").media_type == "text/plain"


def test_a_byte_order_mark_is_dropped(store: AttachmentStore) -> None:
    assert store.check("bom.txt", b"\xef\xbb\xbfhello").text == "hello"


def test_text_that_is_not_utf8_is_refused(store: AttachmentStore) -> None:
    with pytest.raises(MessageRejected, match=r"latin\.txt is not UTF-8 text.*Save it as UTF-8"):
        store.check("latin.txt", "Café".encode("latin-1"))


def test_nul_bytes_are_refused(store: AttachmentStore) -> None:
    with pytest.raises(MessageRejected, match="contains NUL characters"):
        store.check("binary.txt", b"abc\x00def")


def test_an_empty_file_is_refused(store: AttachmentStore) -> None:
    with pytest.raises(MessageRejected, match=r"empty\.txt is empty"):
        store.check("empty.txt", b"")


def test_a_file_over_the_limit_says_its_size_and_the_limit(database: Database) -> None:
    store = AttachmentStore(database, max_bytes=5 * 1024 * 1024)
    with pytest.raises(MessageRejected) as caught:
        store.check("photo.png", PNG + b"\x00" * 12_900_000)
    assert str(caught.value).startswith("photo.png is 12.3 MB; the limit is 5 MB per file.")
    assert store.check("fits.txt", b"x" * 5 * 1024 * 1024).size == 5 * 1024 * 1024


def test_the_text_types_come_from_the_settings(database: Database, tmp_path: Path) -> None:
    settings = PortalSettings(
        data_dir=tmp_path,
        chat_attachment_max_bytes=10,
        chat_attachment_max_files=2,
        chat_attachment_text_types=[".TXT", "Makefile"],
    )
    store = AttachmentStore.from_settings(database, settings)
    assert (store.max_bytes, store.max_files) == (10, 2)
    assert store.text_types == {"txt", "makefile"}
    assert store.kind("a.txt", b"x") == "text" and store.kind("makefile", b"x") == "text"
    assert store.kind("a.md", b"x") is None
    assert {"txt", "md", "py", "json", "csv"} <= set(PortalSettings().chat_attachment_text_types)
    assert "svg" not in DEFAULT_TEXT_TYPES


# -- file names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("a\r\nb.txt", "a b.txt"),
        ("tab\there.md", "tab here.md"),
        ("report\u202egnp.exe", "report gnp.exe"),
        ("  spaced   out .txt ", "spaced out .txt"),
        ("..", "file"),
        ("", "file"),
        ("dir/", "file"),
        ("lone\ud800.txt", "lone\ufffd.txt"),
        ("cafe\u0301.txt", "café.txt"),
    ],
)
def test_file_names_are_cleaned(raw: str, clean: str) -> None:
    assert clean_filename(raw) == clean


def test_long_names_are_cut_keeping_the_extension() -> None:
    name = clean_filename("x" * 300 + ".py")
    assert len(name) == MAX_FILENAME_CHARS and name.endswith("x.py")
    assert len(clean_filename("y" * 300)) == MAX_FILENAME_CHARS


def test_the_stored_name_is_the_clean_one(store: AttachmentStore) -> None:
    info = store.add(ALICE, "../../" + "n" * 300 + ".txt", b"hi")
    assert info.filename == "n" * (MAX_FILENAME_CHARS - 4) + ".txt"


def test_sizes_read_as_people_write_them() -> None:
    assert [describe_size(n) for n in (1, 512, 2048, 5 * 1024**2, 12_900_000, 3 * 1024**3)] == [
        "1 byte",
        "512 bytes",
        "2 KB",
        "5 MB",
        "12.3 MB",
        "3 GB",
    ]


# -- storing and claiming ---------------------------------------------------------------------


def test_an_added_file_is_pending_until_a_message_claims_it(
    store: AttachmentStore, database: Database
) -> None:
    notes = store.add(ALICE, "notes.md", b"# Notes")
    photo = store.add(ALICE, "photo.png", PNG)
    assert [i.id for i in store.pending(ALICE)] == [notes.id, photo.id]
    conversation_id, message_id = message_of(database, ALICE)
    with database.session() as session:
        claimed = store.claim(
            session, ALICE, [photo.id, notes.id, photo.id], conversation_id, message_id
        )
    assert [i.id for i in claimed] == [photo.id, notes.id]
    assert store.pending(ALICE) == ()
    found = store.for_messages(ALICE, [message_id, 999])
    assert list(found) == [message_id]
    assert [(a.filename, a.kind, a.text) for a in found[message_id]] == [
        ("notes.md", "text", "# Notes"),
        ("photo.png", "image", None),
    ]
    assert found[message_id][1].data == PNG
    infos = store.infos_for_messages(ALICE, [message_id])
    assert infos == {message_id: (notes, photo)}
    assert store.for_messages(BOB, [message_id]) == {}
    assert store.infos_for_messages(BOB, [message_id]) == {}


def test_claiming_reads_inside_the_callers_transaction(
    store: AttachmentStore, database: Database
) -> None:
    info = store.add(ALICE, "a.txt", b"alpha")
    conversation_id, message_id = message_of(database, ALICE)
    with database.session() as session:
        store.claim(session, ALICE, [info.id], conversation_id, message_id)
        inside = store.for_messages(ALICE, [message_id], session=session)
        assert [a.text for a in inside[message_id]] == ["alpha"]


def test_a_refused_claim_leaves_nothing_claimed(store: AttachmentStore, database: Database) -> None:
    mine = store.add(ALICE, "mine.txt", b"mine")
    theirs = store.add(BOB, "theirs.txt", b"bob's")
    conversation_id, message_id = message_of(database, ALICE)
    for ids in ([mine.id, theirs.id], [mine.id, 12345]):
        with pytest.raises(MessageRejected, match="no longer available"), database.session() as s:
            store.claim(s, ALICE, ids, conversation_id, message_id)
        assert [i.id for i in store.pending(ALICE)] == [mine.id]
        assert [i.id for i in store.pending(BOB)] == [theirs.id]


def test_bob_cannot_claim_alices_file_into_his_message(
    store: AttachmentStore, database: Database
) -> None:
    alices = store.add(ALICE, "secret.txt", b"alice's secret")
    conversation_id, message_id = message_of(database, BOB)
    with pytest.raises(MessageRejected), database.session() as session:
        store.claim(session, BOB, [alices.id], conversation_id, message_id)
    assert store.for_messages(BOB, [message_id]) == {}
    assert [i.id for i in store.pending(ALICE)] == [alices.id]


def test_a_claim_into_someone_elses_message_is_refused(
    store: AttachmentStore, database: Database
) -> None:
    mine = store.add(ALICE, "mine.txt", b"mine")
    conversation_id, message_id = message_of(database, BOB)
    with pytest.raises(MessageRejected), database.session() as session:
        store.claim(session, ALICE, [mine.id], conversation_id, message_id)
    assert store.for_messages(BOB, [message_id]) == {}


def test_a_file_is_claimed_once(store: AttachmentStore, database: Database) -> None:
    info = store.add(ALICE, "once.txt", b"once")
    first = message_of(database, ALICE)
    second = message_of(database, ALICE)
    with database.session() as session:
        store.claim(session, ALICE, [info.id], *first)
    with pytest.raises(MessageRejected, match="already sent"), database.session() as session:
        store.claim(session, ALICE, [info.id], *second)


def test_a_message_carries_at_most_max_files(store: AttachmentStore, database: Database) -> None:
    ids = [store.add(ALICE, f"{n}.txt", b"x").id for n in range(4)]
    conversation_id, message_id = message_of(database, ALICE)
    with pytest.raises(MessageRejected, match="3 files at most"), database.session() as session:
        store.claim(session, ALICE, ids, conversation_id, message_id)
    with database.session() as session:
        assert store.claim(session, ALICE, [], conversation_id, message_id) == ()


def test_pending_files_per_user_are_bounded(database: Database) -> None:
    store = AttachmentStore(database, max_files=1, max_pending=2)
    store.add(ALICE, "1.txt", b"1")
    store.add(ALICE, "2.txt", b"2")
    with pytest.raises(MessageRejected, match="2 files waiting to be sent"):
        store.add(ALICE, "3.txt", b"3")
    store.add(BOB, "bob.txt", b"b")


# -- reading, removing, cleaning up -----------------------------------------------------------


def test_only_the_owner_gets_a_file(store: AttachmentStore) -> None:
    text = store.add(ALICE, "notes.txt", b"\xef\xbb\xbfhello")
    image = store.add(ALICE, "p.png", PNG)
    got = store.get(ALICE, text.id)
    assert got is not None and got.info == text and got.content == b"hello"
    got_image = store.get(ALICE, image.id)
    assert got_image is not None and got_image.content == PNG
    assert store.get(BOB, text.id) is None
    assert store.get(ALICE, 999) is None


def test_only_pending_files_of_the_owner_are_removed(
    store: AttachmentStore, database: Database
) -> None:
    pending = store.add(ALICE, "p.txt", b"p")
    sent = store.add(ALICE, "s.txt", b"s")
    with database.session() as session:
        store.claim(session, ALICE, [sent.id], *message_of(database, ALICE))
    assert store.delete(BOB, pending.id) == "missing"
    assert store.delete(ALICE, sent.id) == "sent"
    assert store.delete(ALICE, 999) == "missing"
    assert store.delete(ALICE, pending.id) == "deleted"
    assert store.get(ALICE, pending.id) is None and store.get(ALICE, sent.id) is not None


def test_files_go_with_their_conversation(store: AttachmentStore, database: Database) -> None:
    info = store.add(ALICE, "a.txt", b"a")
    kept = store.add(ALICE, "b.txt", b"b")
    conversation_id, message_id = message_of(database, ALICE)
    other = message_of(database, ALICE)
    with database.session() as session:
        store.claim(session, ALICE, [info.id], conversation_id, message_id)
        store.claim(session, ALICE, [kept.id], *other)
    with database.session() as session:
        session.execute(delete(Conversation).where(Conversation.id == conversation_id))
    assert store.get(ALICE, info.id) is None
    assert store.get(ALICE, kept.id) is not None
    with database.session() as session:
        session.execute(delete(Message).where(Message.id == other[1]))
    assert attachment_count(database) == 0


def test_stale_pending_files_are_removed_sent_ones_kept(
    store: AttachmentStore, database: Database
) -> None:
    old = store.add(ALICE, "old.txt", b"o")
    old_sent = store.add(ALICE, "sent.txt", b"s")
    fresh = store.add(ALICE, "fresh.txt", b"f")
    with database.session() as session:
        store.claim(session, ALICE, [old_sent.id], *message_of(database, ALICE))
        session.execute(
            update(Attachment)
            .where(Attachment.id.in_([old.id, old_sent.id]))
            .values(created_at=utcnow() - timedelta(days=2))
        )
    assert store.delete_stale() == 1
    assert store.get(ALICE, old.id) is None
    assert store.get(ALICE, old_sent.id) is not None and store.get(ALICE, fresh.id) is not None
    assert store.delete_stale(timedelta(0)) == 1


def test_adding_removes_stale_files_now_and_then(database: Database) -> None:
    store = AttachmentStore(database)
    old = store.add(ALICE, "old.txt", b"o")
    with database.session() as session:
        session.execute(
            update(Attachment)
            .where(Attachment.id == old.id)
            .values(created_at=utcnow() - timedelta(days=2))
        )
    AttachmentStore(database).add(BOB, "new.txt", b"n")  # a new store cleans on its first add
    assert store.get(ALICE, old.id) is None


# -- what the model reads ---------------------------------------------------------------------


def stored(name: str, text: str | None = None, data: bytes = b"") -> StoredAttachment:
    kind = "text" if text is not None else "image"
    size = len(text or "") or len(data)
    return StoredAttachment(1, None, name, "x/y", kind, size, utcnow(), text, data)


def test_model_text_puts_files_after_the_message() -> None:
    files = [stored("notes.md", "# Notes\nline"), stored("photo.png", data=PNG)]
    assert model_text("Summarise", files) == (
        "Summarise\n\n[File: notes.md]\n```\n# Notes\nline\n```\n\n[Image: photo.png]"
    )
    assert model_text("Just text", []) == "Just text"
    assert model_text("", [stored("a.txt", "A")]) == "[File: a.txt]\n```\nA\n```"


def test_a_fence_inside_a_file_does_not_end_its_block() -> None:
    text = model_text("m", [stored("readme.md", "```py\ncode\n```")])
    assert "\n````\n```py\ncode\n```\n````" in text


def test_files_are_cut_to_the_budget_with_a_visible_marker() -> None:
    files = [stored("a.txt", "a" * 50), stored("b.txt", "\n".join(["b" * 9] * 100))]
    full = model_text("Hi", files)
    assert TRUNCATED not in full
    budget = 400
    cut = model_text("Hi", files, budget_chars=budget)
    assert len(cut) <= budget
    assert cut.startswith("Hi\n\n[File: a.txt]\n```\n" + "a" * 50 + "\n```")
    assert cut.endswith(f"bbbbbbbbb\n{TRUNCATED}\n```")
    tiny = model_text("Hi", files, budget_chars=10)
    assert "[File: a.txt]\n```\n" + TRUNCATED in tiny and "[File: b.txt]" in tiny
    assert "aaa" not in tiny


def test_image_parts_carry_the_images_in_order() -> None:
    files = [stored("a.png", data=PNG), stored("t.txt", "t"), stored("b.gif", data=GIF)]
    files[2] = StoredAttachment(2, None, "b.gif", "image/gif", "image", 3, utcnow(), None, GIF)
    parts = image_parts(files)
    assert parts == (ImagePart("x/y", PNG), ImagePart("image/gif", GIF))
