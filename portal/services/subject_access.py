"""Subject access (issue 16): "Export everything we hold" about one candidate, as a ZIP.

What belongs to the person is found from the schema, not from a hand list: every row of every
table that references the candidate through a chain of foreign keys (their e-mails, applications
and everything hanging off those: stage moves, shares, ratings, comments, scorecards, interview
requests and slots, interviews, tasks, alerts, timeline entries, survey answers, profile views,
consents, notes, resumes, video links, tags, search copies). A table added later is exported the
day it has a foreign key to any of these. Two things point at a person without a foreign key and
are added by hand: the e-mails sent to one of their addresses (``mail_outbox``) and the audit
entries naming them (``audit_entry``).

What is withheld: secrets that are not about them (columns named like a password, token or
secret; sign-in and answer links in mails, which act on the person's behalf), other recipients'
addresses on a mail, and binary columns (a resume's bytes go into the ZIP as the file itself).
Staff and client contacts named in the rows are listed by name only.
"""

import inspect
import io
import json
import re
import textwrap
import tokenize
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import IO, Any
from typing import cast as cast_type

from sqlalchemy import CheckConstraint, Column, LargeBinary, String, Table, cast, or_, select

from ..extensions import Base, db
from ..models import Agency, AuditEntry, Candidate, ClientContact, MailOutbox, Resume, User, as_utc, utcnow
from ..models.base import UTCDateTime
from .audit import record_audit

# A column whose name says it holds a credential is never exported, whoever it is about.
SECRET_COLUMN = re.compile(r"password|secret|token", re.IGNORECASE)
# A link with a long opaque segment signs someone in or answers on the person's behalf.
TOKEN_LINK = re.compile(r"https?://[^\s\"'<>]*?/[A-Za-z0-9_\-.]{20,}[^\s\"'<>]*")
LINK_WITHHELD = "[link withheld from the export]"
CHUNK = 64 * 1024
ROOT_TABLE = "candidate"
TYPE_NAMES = {int: "number", float: "number", str: "text", bool: "true/false", dict: "JSON", list: "JSON", date: "date"}
COMMON_COLUMNS = {
    "id": "this row's number",
    "agency_id": "the agency that holds the row",
    "created_at": "when the row was made",
}

INTRO = """\
Everything {agency} holds about {name} (candidate #{candidate_id})
Exported {exported_at} (UTC).

This archive holds:

  data.json   every database row about the person, by table (see the tables below)
  files/      the person's files as they were uploaded (resumes)
  README.txt  this explanation

How the rows were chosen: the export starts from the candidate's own row and takes every row
that refers to it, directly or through another such row (an application, then the comments,
ratings and interviews on that application, and so on), by the database's own references. On
top of those it adds the e-mails the agency sent to one of the person's addresses (table
"mail_outbox") and the record of staff actions about the person (table "audit_entry").

What is left out, and why:

  * passwords, sign-in tokens and other secrets: they are not information about the person;
  * links in e-mails that sign someone in or answer on the person's behalf (shown as
    "{withheld}"): anyone holding them could act for the person;
  * the addresses of other recipients of an e-mail (their number is given instead);
  * file contents inside data.json: each file is in files/, named in "files".

Staff and client contacts appear in the rows by number; "people_named" gives their names.
All times are UTC, written as ISO 8601.
"""


@dataclass
class Export:
    """What an export holds, gathered inside the unit of work that records it."""

    candidate_id: int
    filename: str
    data: dict[str, Any]
    readme: str
    # (resume id, path in the ZIP): the contents are read one at a time while the ZIP streams.
    files: list[tuple[int, str]] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return sum(len(rows) for rows in self.data["tables"].values())


def export_candidate(candidate: Candidate, actor: User, *, now: datetime | None = None) -> Export:
    """Gather the export of ``candidate`` and record it in the audit log (the caller's unit of
    work saves the entry; the ZIP is then streamed by :func:`zip_chunks`)."""
    now = as_utc(now or utcnow())
    export = collect_export(candidate, now=now)
    record_audit(
        "candidate_exported",
        agency_id=candidate.agency_id,
        actor=actor,
        candidate_id=candidate.id,
        now=now,
        rows=export.row_count,
        files=len(export.files),
    )
    return export


def rows_about(candidate_id: int) -> dict[Table, list[dict[str, Any]]]:
    """Every row of every table that references the candidate through foreign keys, the
    candidate's own row included, as column → value mappings (binary columns left out)."""
    candidate_table = db.metadata.tables[ROOT_TABLE]
    found: dict[Table, dict[tuple, dict[str, Any]]] = {}
    _add_rows(found, candidate_table, select(*_columns(candidate_table)).where(candidate_table.c.id == candidate_id))
    asked: dict[Column, set] = {}
    grown = True
    while grown:
        grown = False
        for table in db.metadata.sorted_tables:
            for key in table.foreign_keys:
                parent = key.column.table
                if parent not in found:
                    continue
                values = {row[key.column.name] for row in found[parent].values()} - {None}
                new = values - asked.setdefault(key.parent, set())
                asked[key.parent] |= new
                for chunk in _chunks(sorted(new)):
                    query = select(*_columns(table)).where(key.parent.in_(chunk))
                    grown |= _add_rows(found, table, query)
    return {table: list(rows.values()) for table, rows in found.items()}


def mails_to(agency_id: int, addresses: set[str]) -> list[MailOutbox]:
    """The messages of the agency addressed to any of ``addresses`` (stored lower-case)."""
    if not addresses:
        return []
    as_text = cast(MailOutbox.recipients, String)
    # As stored: JSON text, where an address outside ASCII may be written with \u escapes.
    spellings = {spelling for address in addresses for spelling in (address, json.dumps(address)[1:-1])}
    matches = [as_text.like(f"%{_escape_like(spelling)}%", escape="\\") for spelling in sorted(spellings)]
    rows = db.session.scalars(
        select(MailOutbox).where(MailOutbox.agency_id == agency_id, or_(*matches)).order_by(MailOutbox.id)
    )
    return [row for row in rows if addresses & {str(r).lower() for r in row.recipients or []}]


def collect_export(candidate: Candidate, *, now: datetime) -> Export:
    """The export of ``candidate``: data.json's content, the README and the list of files."""
    found = rows_about(candidate.id)
    tables: dict[str, list[dict[str, Any]]] = {}
    for table, rows in found.items():
        tables[table.name] = [_json_row(table, row) for row in sorted(rows, key=lambda r: _sort_key(table, r))]
    addresses = {row["email"] for row in tables.get("candidate_email", [])}
    tables["mail_outbox"] = [_mail_row(mail, addresses) for mail in mails_to(candidate.agency_id, addresses)]
    audit = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.agency_id == candidate.agency_id, AuditEntry.candidate_id == candidate.id)
        .order_by(AuditEntry.id)
    )
    audit_table = db.metadata.tables["audit_entry"]
    tables["audit_entry"] = [
        _json_row(audit_table, {c.name: getattr(entry, _attribute(AuditEntry, c)) for c in _columns(audit_table)})
        for entry in audit
    ]
    files = [
        (row["id"], f"files/resume-{row['id']}-{_safe_filename(row['filename'])}") for row in tables.get("resume", [])
    ]
    # Rows about the person may carry other people's addresses (an invitation's recipients in a
    # timeline entry, a colleague's address in a mail): only the person's own are exported.
    tables = {name: _others_masked(rows, addresses) for name, rows in tables.items()}
    data = {
        "candidate_id": candidate.id,
        "exported_at": _json_value(now),
        "tables": dict(sorted(tables.items(), key=lambda item: _table_order(item[0]))),
        "people_named": _people_named(candidate.agency_id, found, tables["audit_entry"]),
        "files": [{"table": "resume", "id": resume_id, "path": path} for resume_id, path in files],
    }
    readme = readme_text(candidate, list(data["tables"]), now=now)
    return Export(candidate.id, f"candidate-{candidate.id}-export.zip", data, readme, files)


def zip_chunks(export: Export, *, now: datetime) -> Iterator[bytes]:
    """The ZIP, a piece at a time: README.txt and data.json, then each file, read from the
    database one at a time and written in slices, so a large export never sits in memory whole."""
    sink = _Sink()
    stamp = as_utc(now).timetuple()[:6]
    with zipfile.ZipFile(cast_type(IO[bytes], sink), "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in (("README.txt", export.readme), ("data.json", _dumps(export.data))):
            archive.writestr(_entry(name, stamp), text.encode("utf-8"))
            yield sink.take()
        for resume_id, path in export.files:
            content = db.session.scalar(select(Resume.content).where(Resume.id == resume_id))
            if content is None:
                continue  # removed since the export was gathered
            with archive.open(_entry(path, stamp), "w") as member:
                for start in range(0, len(content), CHUNK):
                    member.write(content[start : start + CHUNK])
                    yield sink.take()
    yield sink.take()


def readme_text(candidate: Candidate, table_names: list[str], *, now: datetime) -> str:
    """README.txt: the hand-written introduction, then each table with its description and
    every column exported, generated from the models (docstrings and the comments beside the
    columns)."""
    agency = db.session.get(Agency, candidate.agency_id)
    parts = [
        INTRO.format(
            agency=agency.name if agency else "The agency",
            name=candidate.name,
            candidate_id=candidate.id,
            exported_at=_json_value(now),
            withheld=LINK_WITHHELD,
        )
    ]
    for name in table_names:
        table = db.metadata.tables[name]
        model = _model_of(table)
        parts.append(f"\nTable {name}\n{'-' * (6 + len(name))}\n")
        description = inspect.cleandoc(model.__doc__) if model is not None and model.__doc__ else ""
        if name == "mail_outbox":
            description += "\nOnly messages with one of the person's addresses among the recipients."
        elif name == "audit_entry":
            description += "\nOnly entries naming the person (candidate_id)."
        if description:
            parts.append(textwrap.indent(description.strip(), "  ") + "\n")
        comments = _column_comments(model) if model is not None else {}
        allowed = _allowed_values(table)
        for column in table.columns:
            if _withheld(column):
                continue
            notes = [
                COMMON_COLUMNS.get(column.name, ""),
                comments.get(_attribute(model, column) if model is not None else column.name, ""),
                column.comment or "",
                *(f"the number of a row of {key.column.table.name}" for key in column.foreign_keys),
                f"one of {', '.join(allowed[column.name])}" if column.name in allowed else "",
            ]
            note = "; ".join(n for n in notes if n)
            line = f"  {column.name} ({_type_name(column)})" + (f": {note}" if note else "")
            parts.append(textwrap.fill(line, width=100, subsequent_indent="      ") + "\n")
        if name == "mail_outbox":
            parts.append("  other_recipients (number): how many other people the message went to\n")
    return "".join(parts)


def _withheld(column: Column) -> bool:
    return isinstance(column.type, LargeBinary) or bool(SECRET_COLUMN.search(column.name))


def _columns(table: Table) -> list[Column]:
    return [column for column in table.columns if not _withheld(column)]


def _add_rows(found: dict, table: Table, query) -> bool:
    rows = found.setdefault(table, {})
    grown = False
    for row in db.session.execute(query).mappings():
        key = tuple(row[c.name] for c in table.primary_key.columns) or tuple(row.values())
        if key not in rows:
            rows[key] = dict(row)
            grown = True
    return grown


def _chunks(values: list, size: int = 500) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _sort_key(table: Table, row: dict) -> tuple:
    return tuple(str(row[c.name]).zfill(20) for c in table.primary_key.columns)


def _table_order(name: str) -> tuple[int, str]:
    return (0 if name == ROOT_TABLE else 1, name)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _json_row(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    return {c.name: _json_value(row[c.name]) for c in _columns(table) if c.name in row}


def _without_links(text: str | None) -> str | None:
    return TOKEN_LINK.sub(LINK_WITHHELD, text) if text else text


ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
MASKED = "[another person's address]"


def _others_masked(value: Any, addresses: set[str]) -> Any:
    """``value`` with every e-mail address that is not one of ``addresses`` replaced by a marker
    (strings inside lists and dicts too)."""
    if isinstance(value, str):
        return ADDRESS.sub(lambda m: m.group(0) if m.group(0).lower() in addresses else MASKED, value)
    if isinstance(value, list):
        return [_others_masked(item, addresses) for item in value]
    if isinstance(value, dict):
        return {key: _others_masked(item, addresses) for key, item in value.items()}
    return value


def _mail_row(mail: MailOutbox, addresses: set[str]) -> dict[str, Any]:
    """A message as the person may see it: their addresses only, acting links withheld."""
    mail_table = db.metadata.tables["mail_outbox"]
    row = _json_row(mail_table, {c.name: getattr(mail, _attribute(MailOutbox, c)) for c in mail_table.columns})
    recipients = [str(r).lower() for r in mail.recipients or []]
    row["recipients"] = [r for r in recipients if r in addresses]
    row["other_recipients"] = len(recipients) - len(row["recipients"])
    row["text_body"] = _without_links(mail.text_body)
    row["html_body"] = _without_links(mail.html_body)
    row["attachments"] = [
        {**attachment, "content": _without_links(attachment.get("content"))}
        if isinstance(attachment, dict)
        else attachment
        for attachment in mail.attachments or []
    ]
    return row


def _people_named(agency_id: int, found: dict[Table, list[dict]], audit: list[dict]) -> dict[str, dict]:
    """Names (only) of the staff and client contacts the exported rows refer to."""
    ids: dict[str, set[int]] = {"user": set(), "client_contact": set()}
    for table, rows in found.items():
        for key in table.foreign_keys:
            target = key.column.table.name
            if target in ids:
                ids[target] |= {row[key.parent.name] for row in rows if row.get(key.parent.name) is not None}
    ids["user"] |= {row["actor_user_id"] for row in audit if row.get("actor_user_id") is not None}
    users = db.session.scalars(select(User).where(User.agency_id == agency_id, User.id.in_(ids["user"])))
    contacts = db.session.scalars(
        select(ClientContact).where(ClientContact.agency_id == agency_id, ClientContact.id.in_(ids["client_contact"]))
    )
    return {
        "user": {str(u.id): {"name": u.name, "role": u.role} for u in sorted(users, key=lambda u: u.id)},
        "client_contact": {
            str(c.id): {"name": c.name, "company": c.company.name} for c in sorted(contacts, key=lambda c: c.id)
        },
    }


def _dumps(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def _safe_filename(name: str) -> str:
    base = re.split(r"[\\/]", name or "")[-1]
    cleaned = "".join(ch if ch.isprintable() and ch not in ':*?"<>|' else "_" for ch in base).strip(" .")
    return cleaned[:120] or "file"


def _entry(name: str, stamp: tuple) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


class _Sink:
    """A write-only target for ``zipfile``: it keeps what was written until taken. Having no
    ``tell``/``seek``, it makes the ZIP write each member's sizes after its data (streaming)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _model_of(table: Table):
    for mapper in Base.registry.mappers:
        if mapper.local_table is table:
            return mapper.class_
    return None


def _attribute(model, column: Column) -> str:
    """The mapped attribute name of ``column`` (the column name when the model maps it so)."""
    for prop in model.__mapper__.column_attrs:
        if column in prop.columns:
            return prop.key
    return column.name


def _type_name(column: Column) -> str:
    if isinstance(column.type, UTCDateTime):
        return "time, UTC"
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return type(column.type).__name__
    return TYPE_NAMES.get(python_type, python_type.__name__)


def _allowed_values(table: Table) -> dict[str, list[str]]:
    """Column → the values its check constraint allows (``kind IN ('a', 'b')``)."""
    allowed: dict[str, list[str]] = {}
    for constraint in table.constraints:
        if isinstance(constraint, CheckConstraint):
            for match in re.finditer(r"(\w+) IN \(([^)]*)\)", str(constraint.sqltext)):
                allowed.setdefault(match.group(1), re.findall(r"'([^']*)'", match.group(2)))
    return allowed


@cache
def _column_comments(model) -> dict[str, str]:
    """The comments written beside each attribute in the model's source: the comment lines just
    above it and a comment at the end of its line."""
    try:
        source = textwrap.dedent(inspect.getsource(model))
    except (OSError, TypeError):
        return {}
    lines = source.splitlines()
    comments: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string.lstrip("#").strip()
    result: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        match = re.match(r"    (\w+)\s*(?::[^=]*)?=", line)
        if not match:
            continue
        above: list[str] = []
        previous = number - 1
        while previous >= 1 and lines[previous - 1].strip().startswith("#"):
            above.insert(0, comments.get(previous, ""))
            previous -= 1
        trailing = comments.get(number, "") if not line.strip().startswith("#") else ""
        text = " ".join(part for part in [*above, trailing] if part)
        if text:
            result[match.group(1)] = text
    return result
