"""The results store: one SQLite file (WAL mode) with one row per finished run.

Table ``runs``:

- ``run_id`` (primary key): :func:`run_id`, a SHA-256 of every field of the run's
  :class:`~sim.config.RunConfig` including the seed, so the same run has the same id in
  every grid, store and process, and a grid that overlaps a finished one reuses its runs;
- one column per config field (``samples`` is NULL for online runs);
- the :class:`~sim.config.RunResult` fields (``success`` and ``diverged`` as 0/1; a NaN
  test error of a diverged run is stored as NULL, SQLite has no NaN; ``task_test_errors`` of a
  multitask run as a JSON list, NULL otherwise);
- ``backend``, ``device``, ``dtype``, ``version`` (of parity-frontier), ``host`` and
  ``finished_at`` (UTC, ISO 8601).

Each run is written in its own transaction with ``INSERT ... ON CONFLICT DO NOTHING``,
so a crash or ``kill -9`` at any moment leaves whole runs only, and writing a run twice
keeps the first row. Only one process (the sweep's client) writes.

Schema version (``PRAGMA user_version``, :data:`STORE_SCHEMA_VERSION`): version v's ``runs``
table has a column for every config field with ``FieldSpec.since <= v``. Opening a store for
writing upgrades it in one transaction: each field introduced after the store's version (and
each column it lacks of :data:`ADDED_COLUMNS`: the target fields and ``task_test_errors`` came
with version 2 too, after the first version-2 stores) becomes
a column holding its default (what every run written before the field existed had), and the
version is raised. A store without a version (written before versions were recorded, 0) is
upgraded the same way from the columns it has. A store of a *newer* version is read but never
written. Readers (:func:`load`, :func:`table_names`, :func:`read_table`) never write and work on
read-only media (see :func:`connect_read_only`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import json
import os
import socket
import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from .config import CONFIG_FIELDS, FIELD_SPECS, RESULT_FIELDS, RunConfig, RunResult
from .files import path_kind as _path_kind, sqlite_companion_of

if TYPE_CHECKING:  # pandas is imported lazily: the sweep client does not need it
    import pandas

# Bump only if the meaning of a config field changes: it re-keys every run.
# The rule for new fields: a RunConfig field added after v1 (FieldSpec.since > 1) enters the
# hashed payload only when its value differs from its default. So a run that does not use a new
# field keeps the id it had before the field existed, and every old store stays resumable.
RUN_ID_SCHEME = "parity-frontier/RunConfig/v1"
_RESULT_TYPES = {
    "success": "INTEGER", "steps_to_success": "INTEGER", "steps_run": "INTEGER",
    "final_test_error": "REAL", "final_train_error": "REAL", "diverged": "INTEGER",
    "wall_seconds": "REAL", "task_test_errors": "TEXT",
}
#: Result columns added after the first store format (NULL in older rows): an older store gains
#: them on opening for writing, and :func:`load` adds them (as None) to an older store's frame.
ADDED_RESULT_FIELDS: tuple[str, ...] = ("task_test_errors",)
PROVENANCE_FIELDS: tuple[str, ...] = ("backend", "device", "dtype", "version", "host", "finished_at")
COLUMNS: tuple[str, ...] = ("run_id",) + CONFIG_FIELDS + RESULT_FIELDS + PROVENANCE_FIELDS
_BOOL_COLUMNS = ("success", "diverged")
_NULLABLE_INT_COLUMNS = ("samples", "steps_to_success")

_SQLITE_MAGIC = b"SQLite format 3\x00"
#: How long one write waits for another connection's lock before it reports "database is locked"
#: (the sweep keeps a locked run in memory and retries, see sim.sweep).
DEFAULT_LOCK_TIMEOUT = 60.0


def run_id(config: RunConfig) -> str:
    """Stable id of a run: sha256 of the canonical JSON of all its config fields (hex, 32 chars).

    Canonical: keys sorted, floats as Python's shortest repr, so ``lr=0.1`` hashes the
    same everywhere. The scheme tag is hashed too (see ``RUN_ID_SCHEME``)."""
    payload = json.dumps([RUN_ID_SCHEME, hashed_fields(config)], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def hashed_fields(config: RunConfig) -> dict[str, object]:
    """The fields a run id hashes: every v1 field, and each later field whose value is not its
    default (the rule stated at ``RUN_ID_SCHEME``)."""
    # getattr, not dataclasses.asdict: the same values (all scalars) at a fraction of the cost,
    # which matters when a dry run hashes a million runs.
    values = {name: getattr(config, name) for name in CONFIG_FIELDS}
    return {name: value for name, value in values.items()
            if FIELD_SPECS[name].since == 1 or value != _FIELD_DEFAULTS[name]}


_FIELD_DEFAULTS = {f.name: f.default for f in dataclasses.fields(RunConfig)}


@cache
def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("parity-frontier")
    except PackageNotFoundError:  # a source tree that was never installed
        return "unknown"


#: Config fields added after the first store format: an older store gains them as columns
#: holding their default (which every run written before the field existed had).
ADDED_FIELDS: tuple[str, ...] = tuple(name for name in CONFIG_FIELDS if FIELD_SPECS[name].since > 1)
#: Every column an older store may lack: it gains each with its default (NULL for a result).
ADDED_COLUMNS: tuple[str, ...] = ADDED_FIELDS + ADDED_RESULT_FIELDS
#: The layout of the ``runs`` table this version writes (module docstring): ``PRAGMA user_version``.
STORE_SCHEMA_VERSION: int = max(spec.since for spec in FIELD_SPECS.values())
#: Tables other than ``runs`` that may share a store: the lottery-ticket tables ``frontier tickets``
#: writes (verify.tickets; named here by prefix only, sim imports nothing of verify).
COMPANION_TABLE_PREFIX = "ticket_"


def _column_definition(name: str) -> str:
    if name in _RESULT_TYPES:
        return f"{name} {_RESULT_TYPES[name]}"
    spec = FIELD_SPECS[name]
    definition = f"{name} {spec.sql}{'' if spec.nullable else ' NOT NULL'}"
    if spec.since > 1:
        definition += f" DEFAULT {_sql_literal(_FIELD_DEFAULTS[name])}"
    return definition


def _sql_literal(value: object) -> str:
    return "'" + value.replace("'", "''") + "'" if isinstance(value, str) else repr(value)


def _schema() -> str:
    columns = ["run_id TEXT PRIMARY KEY NOT NULL"]
    columns += [_column_definition(name) for name in CONFIG_FIELDS]
    columns += [f"{name} {_RESULT_TYPES[name]}" for name in RESULT_FIELDS]
    columns += [f"{name} TEXT NOT NULL" for name in PROVENANCE_FIELDS]
    return "CREATE TABLE IF NOT EXISTS runs (\n  " + ",\n  ".join(columns) + "\n)"


def check_store_path(path: str | Path) -> Path:
    """Validate a store path without touching it: its directory must exist, an existing path must
    be a regular file (or a symlink to one) holding an SQLite database, and it may not be the
    ``-wal``/``-shm``/``-journal`` file of another database. ValueError naming the path and what
    it is otherwise (a directory, a FIFO, a device, a socket, a symlink loop)."""
    path = Path(path)
    kind = _path_kind(path)
    if kind == "missing":
        if not path.parent.is_dir():
            raise ValueError(f"store {str(path)!r}: directory {str(path.parent)!r} does not exist")
        if path.is_symlink():
            raise ValueError(f"store {str(path)!r} is a symlink to {os.readlink(path)!r}, which does not exist: "
                             "give a file name")
    elif kind != "a regular file":
        raise ValueError(f"store {str(path)!r} is {kind}, not a file: a store is an SQLite file")
    database = sqlite_companion_of(path)
    if database is not None:
        raise ValueError(f"store {str(path)!r} is the {path.name[len(database.name):]} file of the SQLite database "
                         f"{str(database)!r}, not a store: give the database itself or a new file name")
    if kind != "missing":
        with open(path, "rb") as handle:
            head = handle.read(len(_SQLITE_MAGIC))
        if head and head != _SQLITE_MAGIC:
            raise ValueError(f"store {str(path)!r} exists and is not an SQLite database")
    return path


def _tables(db: sqlite3.Connection) -> set[str]:
    return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _refuse_foreign(path: Path, tables: set[str]) -> None:
    """ValueError for an SQLite file with tables of someone else's and no ``runs`` table: writing
    our table into another program's database would be a surprise. A new or empty file is fine."""
    foreign = sorted(t for t in tables if t != "runs" and not t.startswith(COMPANION_TABLE_PREFIX))
    if "runs" not in tables and foreign:
        raise ValueError(f"store {str(path)!r} is an SQLite database without a runs table "
                         f"(tables: {', '.join(foreign[:5])}): not a results store; give a new file name")


class Store:
    """A writable results store. Use as a context manager or call :meth:`close`.

    Opening validates the path (see :func:`check_store_path`); refuses an SQLite file that holds
    other tables but no ``runs`` table (someone else's database), a ``runs`` table without the
    columns this version writes, and a store of a newer schema version; and upgrades an older
    store (module docstring). ``lock_timeout``: seconds a write waits for another connection's
    lock before it raises ``sqlite3.OperationalError("database is locked")``."""

    def __init__(self, path: str | Path, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        self.path = check_store_path(path)
        try:
            self._db = sqlite3.connect(self.path, timeout=lock_timeout, isolation_level=None)
            try:
                self._prepare()
            except BaseException:
                self._db.close()
                raise
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"store {str(self.path)!r}: {exc}") from None
        placeholders = ", ".join("?" for _ in COLUMNS)
        self._insert = (
            f"INSERT INTO runs ({', '.join(COLUMNS)}) VALUES ({placeholders}) "
            "ON CONFLICT(run_id) DO NOTHING"
        )

    def _prepare(self) -> None:
        """Create, check or upgrade the ``runs`` table (see the class docstring)."""
        tables = _tables(self._db)
        _refuse_foreign(self.path, tables)
        if tables:  # an existing store: intact, with values we wrote, before anything is added
            check_integrity(self._db, self.path)
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > STORE_SCHEMA_VERSION:
            raise ValueError(f"store {str(self.path)!r} has schema version {version}, written by a newer "
                             f"parity-frontier (this one writes version {STORE_SCHEMA_VERSION}): upgrade to write it")
        existing = self._columns() if "runs" in tables else set()
        missing = [name for name in COLUMNS if existing and name not in existing]
        if any(name not in ADDED_COLUMNS for name in missing):
            raise ValueError(
                f"store {str(self.path)!r}: table runs lacks columns {missing} "
                "(written by an incompatible version, or not a parity-frontier store)"
            )
        if existing:
            check_runs_values(self._db, self.path)
        if self._db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            self._db.execute("PRAGMA journal_mode=WAL")
        if existing and not missing and version == STORE_SCHEMA_VERSION:
            return
        with self._db:  # the new table (or the added columns) and the version, in one transaction
            self._db.execute("BEGIN IMMEDIATE")
            if not existing:
                self._db.execute(_schema())
            for name in missing:  # a store from before a field existed: every old run had its default
                self._db.execute(f"ALTER TABLE runs ADD COLUMN {_column_definition(name)}")
            self._db.execute(f"PRAGMA user_version = {STORE_SCHEMA_VERSION}")

    def wait_for_locks(self, seconds: float) -> None:
        """How long a write waits for another connection's lock from now on (SQLite's busy timeout)."""
        self._db.execute(f"PRAGMA busy_timeout = {max(0, int(seconds * 1000))}")

    def _columns(self) -> set[str]:
        return {row[1] for row in self._db.execute("PRAGMA table_info(runs)")}

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def finished_ids(self, ids: Iterable[str] | None = None) -> set[str]:
        """The run ids already in the store (restricted to ``ids`` if given)."""
        stored = {row[0] for row in self._db.execute("SELECT run_id FROM runs")}
        return stored if ids is None else stored & set(ids)

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]

    def write(
        self, config: RunConfig, result: RunResult, backend: str, device: str, dtype: str,
        host: str | None = None,
    ) -> bool:
        """Insert one finished run in its own transaction; False if it was already stored."""
        row = (run_id(config),) + tuple(getattr(config, name) for name in CONFIG_FIELDS)
        row += tuple(_sql_value(getattr(result, name)) for name in RESULT_FIELDS)
        row += (
            backend, device, dtype, package_version(), host or socket.gethostname(),
            datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds"),
        )
        with self._db:  # BEGIN ... COMMIT, rolled back on error
            self._db.execute("BEGIN IMMEDIATE")
            cursor = self._db.execute(self._insert, row)
        return cursor.rowcount == 1


def _sql_value(value: object) -> object:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, tuple):  # per-task errors: a JSON list, NaN (a task without test samples) as null
        return json.dumps([None if v != v else v for v in value])
    if isinstance(value, float) and value != value:  # NaN: SQLite would store NULL anyway
        return None
    return value


#: Errors SQLite gives when it may not create a store's -shm/-wal files (read-only media or
#: folder, or a file the user may not write): only these send a reader to the next way of opening.
_READ_ONLY_SYMPTOMS = ("readonly database", "unable to open database file", "read-only file system",
                       # a full disk: the -shm file cannot be made, but reading needs no space
                       "disk I/O error", "database or disk is full")


def read_only_uris(path: Path) -> list[tuple[str, bool]]:
    """The ways :func:`connect_read_only` tries, in order, as (target, is_uri):

    1. a plain connection with ``query_only``: sees every committed run, WAL included, and
       removes the -wal/-shm files it creates when it closes (``mode=ro`` could not);
    2. ``mode=ro``: the same without creating the file, for a folder the user may not write
       when the -shm file already exists;
    3. ``mode=ro&immutable=1``: read-only media, where SQLite cannot create the -shm file WAL
       needs. It reads the main file only: every run of a store whose writer closed cleanly (a
       clean close checkpoints the WAL into the main file)."""
    uri = path.resolve().as_uri()
    return [(str(path), False), (f"{uri}?mode=ro", True), (f"{uri}?mode=ro&immutable=1", True)]


def _open_and_probe(target: str, is_uri: bool) -> sqlite3.Connection:
    """Open ``target`` and read its schema: SQLite reports a missing -shm file only on first use."""
    db = sqlite3.connect(target, uri=is_uri, timeout=DEFAULT_LOCK_TIMEOUT)
    try:
        db.execute("PRAGMA query_only = ON")
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        db.close()
        raise
    return db


def connect_read_only(path: str | Path) -> sqlite3.Connection:
    """A connection that never writes ``path``, opened the first way that works (:func:`read_only_uris`).

    FileNotFoundError if it does not exist, ValueError if it is not SQLite; the last
    sqlite3.OperationalError if no way works."""
    path = check_store_path(_existing_file(path))
    last_error: sqlite3.OperationalError | None = None
    for target, is_uri in read_only_uris(path):
        try:
            db = _open_and_probe(target, is_uri)
        except sqlite3.OperationalError as exc:
            if not any(symptom in str(exc) for symptom in _READ_ONLY_SYMPTOMS):
                raise  # locked, I/O error, ...: not a question of read-only media
            last_error = exc
            continue
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"store {str(path)!r} is not a readable SQLite database: {exc}") from None
        try:
            check_integrity(db, path)
        except BaseException:
            db.close()
            raise
        return db
    assert last_error is not None
    raise last_error


def _check_runs_table(db: sqlite3.Connection, path: Path) -> None:
    """ValueError unless ``runs`` exists with every column this version reads (ADDED_FIELDS may be absent)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    if not columns:
        tables = sorted(_tables(db))
        raise ValueError(f"store {str(path)!r} has no runs table (tables: {', '.join(tables) or 'none'}): "
                         "not a results store")
    missing = [name for name in COLUMNS if name not in columns and name not in ADDED_COLUMNS]
    if missing:
        raise ValueError(f"store {str(path)!r}: table runs lacks columns {missing[:6]}"
                         f"{' ...' if len(missing) > 6 else ''} (not a parity-frontier results store, or an "
                         "incompatible version)")


class StoreDamagedError(ValueError):
    """A store that fails SQLite's integrity check or holds a value parity-frontier never writes
    (a NULL or out-of-range outcome, a text width, a runs table without its primary key): refused
    whole, before anything is read from it or written to it. The message names the run and column."""


#: The SQL form of each range rule of :class:`sim.config.FieldSpec` (``{c}`` is the column).
SQL_RULES: dict[str, str] = {
    ">= 0": "{c} >= 0", ">= 1": "{c} >= 1", "> 0": "{c} > 0", "in [0, 1)": "{c} >= 0 AND {c} < 1",
    "in [0, 1/2)": "{c} >= 0 AND {c} < 0.5",
}
_SQL_TYPES = {"INTEGER": ("typeof({c}) = 'integer'", "an integer"),
              "REAL": ("typeof({c}) IN ('real', 'integer')", "a number"),
              "TEXT": ("typeof({c}) = 'text'", "text")}


def _sql_choices(choices: tuple[str, ...]) -> str:
    return "(" + ", ".join(_sql_literal(choice) for choice in choices) + ")"


@cache
def value_rules() -> dict[str, tuple[str, str]]:
    """column -> (the SQL condition every stored value meets, the same in words): what
    :meth:`Store.write` can write, from the config schema (``FIELD_SPECS``) and the result types."""
    rules = {"run_id": ("typeof(run_id) = 'text' AND length(run_id) = 32", "a 32-character text id")}
    for name in CONFIG_FIELDS:
        spec = FIELD_SPECS[name]
        condition, words = (part.format(c=name) for part in _SQL_TYPES[spec.sql])
        if spec.choices is not None:
            condition += f" AND {name} IN {_sql_choices(spec.choices)}"
            words = f"one of {', '.join(spec.choices)}"
        if spec.rule is not None:
            condition += " AND " + SQL_RULES[spec.rule].format(c=name)
            words += f" {spec.rule}"
        if spec.nullable:
            condition, words = f"{name} IS NULL OR ({condition})", f"{words}, or NULL (online)"
        rules[name] = (condition, words)
    error = "typeof({c}) IN ('real', 'integer') AND {c} >= 0 AND {c} <= 1"
    rules |= {
        "success": ("typeof(success) = 'integer' AND success IN (0, 1)", "0 or 1"),
        "diverged": ("typeof(diverged) = 'integer' AND diverged IN (0, 1)", "0 or 1"),
        "steps_to_success": ("steps_to_success IS NULL OR (typeof(steps_to_success) = 'integer' AND "
                             "steps_to_success >= 0)", "an integer >= 0, or NULL (no success)"),
        "steps_run": ("typeof(steps_run) = 'integer' AND steps_run >= 0", "an integer >= 0"),
        "final_test_error": (f"final_test_error IS NULL OR ({error.format(c='final_test_error')})",
                             "a number in [0, 1], or NULL (diverged)"),
        "final_train_error": (f"final_train_error IS NULL OR ({error.format(c='final_train_error')})",
                              "a number in [0, 1], or NULL"),
        "wall_seconds": ("typeof(wall_seconds) IN ('real', 'integer') AND wall_seconds >= 0", "a number >= 0"),
        "task_test_errors": ("task_test_errors IS NULL OR typeof(task_test_errors) = 'text'",
                             "a JSON list, or NULL"),
    }
    rules |= {name: (f"typeof({name}) = 'text'", "text") for name in PROVENANCE_FIELDS}
    return rules


def check_integrity(db: sqlite3.Connection, path: Path) -> None:
    """StoreDamagedError unless SQLite's quick integrity check finds the file intact (a damaged
    page is refused before a reader or a writer uses the store; SQLite itself notices only when
    it happens to read that page)."""
    rows = [line for (text,) in db.execute("PRAGMA quick_check(2)") for line in str(text).splitlines()]
    if rows != ["ok"]:
        problem = next((line for line in rows if not line.startswith("***")), rows[0])
        raise StoreDamagedError(f"store {str(path)!r} is damaged: SQLite's integrity check says {problem!r}; "
                                "restore it from a copy, or rerun the sweep into a new store")


def check_runs_values(db: sqlite3.Connection, path: Path) -> None:
    """StoreDamagedError unless ``runs`` has ``run_id`` as its primary key and every value is one
    :meth:`Store.write` can write (:func:`value_rules`): the first offending run and column are named."""
    info = db.execute("PRAGMA table_info(runs)").fetchall()  # cid, name, type, notnull, default, pk
    if [row[1] for row in info if row[5]] != ["run_id"]:
        repeated = db.execute("SELECT run_id, COUNT(*) FROM runs GROUP BY run_id HAVING COUNT(*) > 1 "
                              "LIMIT 1").fetchone()
        what = (f"run {repeated[0]!r} appears {repeated[1]} times" if repeated else "no run appears twice yet")
        raise StoreDamagedError(f"store {str(path)!r}: table runs has no primary key on run_id ({what}): not "
                                "written by parity-frontier; a sweep could not add runs to it")
    columns = {row[1] for row in info}
    rules = {name: rule for name, rule in value_rules().items() if name in columns}
    every = " AND ".join(f"coalesce(({condition}), 0)" for condition, _ in rules.values())
    bad = db.execute(f"SELECT rowid FROM runs WHERE NOT ({every}) LIMIT 1").fetchone()
    if bad is None:
        return
    (rowid,) = bad
    for name, (condition, words) in rules.items():
        ok, shown, key = db.execute(f"SELECT coalesce(({condition}), 0), quote({name}), quote(run_id) FROM runs "
                                    "WHERE rowid = ?", (rowid,)).fetchone()
        if not ok:
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            raise StoreDamagedError(
                f"store {str(path)!r}: run {key} (row {rowid}) has {name} = {shown}, but a store holds {words} "
                "there: the file was changed outside parity-frontier; fix or delete that row (sqlite3), or "
                "rerun the sweep into a new store")
    raise AssertionError("a row failed the combined check but no single rule")  # pragma: no cover


def load(path: str | Path) -> "pandas.DataFrame":
    """All runs of a store as a DataFrame, one row per run, columns as in the module docstring.

    ``success``/``diverged`` are bool, ``samples``/``steps_to_success`` nullable Int64
    (``samples`` <NA> = online), a diverged run's missing test error is NaN.
    Loading never changes a store, leaves no -wal/-shm files and works on read-only media
    (:func:`connect_read_only`). ValueError if the file has no ``runs`` table with our columns."""
    import pandas as pd

    path = _existing_file(path)
    try:
        with contextlib.closing(connect_read_only(path)) as db:
            _check_runs_table(db, path)
            check_runs_values(db, path)
            frame = pd.read_sql_query("SELECT * FROM runs ORDER BY rowid", db)
    except (sqlite3.DatabaseError, pd.errors.DatabaseError) as exc:
        raise ValueError(f"store {str(path)!r}: {exc}") from None
    for name in ADDED_COLUMNS:  # read-only load of a store from before the column existed
        if name not in frame.columns:
            frame.insert(list(COLUMNS).index(name), name, _FIELD_DEFAULTS.get(name))
    for name in _BOOL_COLUMNS:
        frame[name] = frame[name].astype(bool)
    for name in _NULLABLE_INT_COLUMNS:
        frame[name] = frame[name].astype("Int64")
    for name in ("final_test_error", "final_train_error", "wall_seconds"):
        frame[name] = frame[name].astype(float)
    return frame


def stored_run_ids(path: str | Path) -> set[str]:
    """The run ids in the store at ``path``, read-only (empty if the file does not exist)."""
    path = Path(path)
    if not path.exists():
        return set()
    with contextlib.closing(connect_read_only(path)) as db:
        tables = _tables(db)
        _refuse_foreign(path, tables)  # as a sweep into it would
        if "runs" not in tables:
            return set()
        _check_runs_table(db, path)
        check_runs_values(db, path)
        return {row[0] for row in db.execute("SELECT run_id FROM runs")}


def schema_version(path: str | Path) -> int:
    """The store's ``PRAGMA user_version`` (0: written before versions were recorded)."""
    with contextlib.closing(connect_read_only(path)) as db:
        return db.execute("PRAGMA user_version").fetchone()[0]


def check_existing_store(path: str | Path) -> Path:
    """Validate a store to read without opening it: it exists and is a regular file holding an
    SQLite database. FileNotFoundError or ValueError (saying what the path is) otherwise."""
    return check_store_path(_existing_file(path))


def _existing_file(path: str | Path) -> Path:
    path = Path(path)
    kind = _path_kind(path)
    if kind == "missing":
        raise FileNotFoundError(f"store {str(path)!r} does not exist")
    if kind != "a regular file":
        raise ValueError(f"store {str(path)!r} is {kind}, not a file: a store is an SQLite file")
    return path


def table_names(path: str | Path) -> set[str]:
    """Names of the tables of a SQLite file (read-only; never creates the file)."""
    path = _existing_file(path)
    try:
        with contextlib.closing(connect_read_only(path)) as connection:
            rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"store {str(path)!r} cannot be read: {exc}") from None
    return {name for (name,) in rows}


def read_table(path: str | Path, table: str) -> "pandas.DataFrame":
    """A whole table of a SQLite file as a DataFrame (read-only)."""
    import pandas as pd

    with contextlib.closing(connect_read_only(path)) as connection:
        return pd.read_sql_query(f'SELECT * FROM "{table}"', connection)


def configs_of(frame: "pandas.DataFrame") -> list[RunConfig]:
    """The RunConfigs of the rows of a :func:`load` frame (for re-running or analysis)."""
    import pandas as pd

    configs = []
    for record in frame[list(CONFIG_FIELDS)].to_dict("records"):
        values = {k: (None if pd.isna(v) else v.item() if hasattr(v, "item") else v) for k, v in record.items()}
        configs.append(RunConfig(**values))
    return configs


# --------------------------------------------------------------------------- merging stores

#: The result columns two copies of one run must agree on to be the same run (wall time and
#: provenance may differ: the same run trained twice, or on two machines).
OUTCOME_COLUMNS: tuple[str, ...] = tuple(name for name in RESULT_FIELDS if name != "wall_seconds")


@dataclass(frozen=True)
class MergeConflict:
    """One run id whose outcomes differ between two inputs: ``column`` is the first that differs."""

    run_id: str
    column: str
    first: tuple[str, object]   # (input path, value)
    second: tuple[str, object]

    def describe(self) -> str:
        return (f"run {self.run_id}: {self.column} = {self.first[1]!r} in {self.first[0]!r} but "
                f"{self.second[1]!r} in {self.second[0]!r}")


@dataclass(frozen=True)
class MergeSummary:
    """What :func:`merge_stores` did: runs read per input, distinct runs written, duplicates whose
    outcomes agreed, runs left out by the filter, and the conflicts (kept: the first input's row)."""

    inputs: tuple[tuple[str, int], ...]
    written: int
    duplicates: int
    filtered_out: int
    conflicts: tuple[MergeConflict, ...]


class MergeConflictError(ValueError):
    """Two inputs hold one run id with different outcomes, and the merge was told to refuse."""


def read_rows(path: str | Path) -> list[dict[str, object]]:
    """Every run of a store as stored (dicts of :data:`COLUMNS`, SQLite's own values: 0/1 outcomes,
    NULLs), after the same checks as :func:`load`; a column an older store lacks holds its default."""
    path = _existing_file(path)
    try:
        with contextlib.closing(connect_read_only(path)) as db:
            _check_runs_table(db, path)
            check_runs_values(db, path)
            cursor = db.execute("SELECT * FROM runs ORDER BY rowid")
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, row)) for row in cursor]
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"store {str(path)!r}: {exc}") from None
    for row in rows:
        for name in ADDED_COLUMNS:
            row.setdefault(name, _FIELD_DEFAULTS.get(name))
    return [{name: row[name] for name in COLUMNS} for row in rows]


def _config_of_row(row: dict[str, object]) -> RunConfig:
    return RunConfig(**{name: row[name] for name in CONFIG_FIELDS})


def merge_stores(
    out: str | Path, inputs: Sequence[str | Path], keep: Callable[["pandas.DataFrame"], object] | None = None,
    on_conflict: str = "refuse",
) -> MergeSummary:
    """Write the runs of ``inputs`` to the new store ``out``, each run id once.

    Every input is opened read-only and checked as :func:`load` checks it (integrity, columns,
    values), and every row's id must be the hash of its configuration (:func:`run_id`): a row
    edited by hand is refused, not merged. A run id in several inputs is written once; if their
    outcomes (:data:`OUTCOME_COLUMNS`) differ, ``on_conflict="refuse"`` (the default) raises
    :class:`MergeConflictError` naming the first conflicts and writes nothing, ``"first"`` keeps
    the row of the first input that has it. ``keep``: a function of a :func:`load` frame returning a
    boolean mask of the runs to write (``frontier merge --where``). ``out`` must not exist; it is
    built under a temporary name beside it and renamed into place when complete."""
    from .files import atomic_path, check_output_path

    if on_conflict not in ("refuse", "first"):
        raise ValueError(f"on_conflict={on_conflict!r} must be 'refuse' or 'first'")
    if not inputs:
        raise ValueError("give at least one store to merge")
    out = Path(out)
    target = check_output_path(out, "merge output")
    if target.exists() or out.is_symlink():
        raise ValueError(f"merge output {str(out)!r} exists: merge writes a new store; give a new file name "
                         "(an existing store can be one of the inputs)")
    paths = [check_existing_store(path) for path in inputs]
    for path in paths:
        if path.resolve() == target.resolve():
            raise ValueError(f"merge output {str(out)!r} is also an input")
    chosen: dict[str, tuple[str, dict[str, object]]] = {}
    read, duplicates, filtered_out, conflicts = [], 0, 0, []
    for path in paths:
        rows = read_rows(path)
        read.append((str(path), len(rows)))
        for row in rows:
            if run_id(_config_of_row(row)) != row["run_id"]:
                raise StoreDamagedError(f"store {str(path)!r}: run {row['run_id']!r} does not have the id of its "
                                        "configuration (a row changed outside parity-frontier): not merged")
        if keep is not None and rows:
            mask = keep(load(path))
            selected = {row["run_id"] for row, kept in zip(rows, list(mask)) if kept}
            filtered_out += len(rows) - len(selected)
            rows = [row for row in rows if row["run_id"] in selected]
        for row in rows:
            key = str(row["run_id"])
            if key not in chosen:
                chosen[key] = (str(path), row)
                continue
            duplicates += 1
            where, earlier = chosen[key]
            differing = next((name for name in OUTCOME_COLUMNS if earlier[name] != row[name]), None)
            if differing is not None:
                conflicts.append(MergeConflict(key, differing, (where, earlier[differing]),
                                               (str(path), row[differing])))
    if conflicts and on_conflict == "refuse":
        shown = "; ".join(conflict.describe() for conflict in conflicts[:3])
        raise MergeConflictError(f"{len(conflicts)} run(s) have different outcomes in different inputs ({shown}"
                                 f"{'; ...' if len(conflicts) > 3 else ''}): nothing written; pass on_conflict='first' "
                                 "(frontier merge --on-conflict first) to keep the first input's row")
    with atomic_path(out) as tmp:
        with Store(tmp) as store:
            placeholders = ", ".join("?" for _ in COLUMNS)
            with store._db:
                store._db.execute("BEGIN IMMEDIATE")
                store._db.executemany(f"INSERT INTO runs ({', '.join(COLUMNS)}) VALUES ({placeholders})",
                                      [tuple(row[name] for name in COLUMNS) for _, row in chosen.values()])
            # Fold the WAL into the file before it is renamed (a sweep into it switches back to WAL).
            store._db.execute("PRAGMA journal_mode=DELETE")
    return MergeSummary(tuple(read), len(chosen), duplicates, filtered_out, tuple(conflicts))
