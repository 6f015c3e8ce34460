"""Agency Portal: the Flask application factory."""

import json
import os

from flask import Flask

from .config import CONFIGS, ENV_ALIASES, development_secret, normalise_database_url


def create_app(config: dict | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints. Nothing else happens at import."""
    app = Flask(__name__, instance_relative_config=True)
    env_name = (config or {}).get("ENV_NAME") or os.environ.get("PORTAL_ENV", "production")
    if env_name not in CONFIGS:
        raise RuntimeError(f"PORTAL_ENV must be one of {', '.join(CONFIGS)}, not {env_name!r}")
    app.config.from_object(CONFIGS[env_name])
    if env_name == "development":
        app.config.update(_running_dev_server(app.instance_path))
    for env_key, setting in ENV_ALIASES.items():
        if os.environ.get(env_key):
            value = os.environ[env_key]
            app.config[setting] = int(value) if value.isdigit() else value
    app.config.from_prefixed_env("PORTAL", loads=_loads)
    if config:
        app.config.update(config)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if not app.config.get("SECRET_KEY") and env_name == "development":
        app.config["SECRET_KEY"] = development_secret(app.instance_path)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set outside development (export SECRET_KEY=...).")
    os.makedirs(app.instance_path, exist_ok=True)

    from . import auth_loader, cli, errors, ratelimit, security, static_files
    from .extensions import csrf, db, login_manager, mail, migrate

    _configure_postgresql(app)
    db.init_app(app)
    _configure_sqlite(app)
    migrate.init_app(
        app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"), render_as_batch=True
    )
    csrf.init_app(app)
    mail.init_app(app)
    ratelimit.init_app(app)
    login_manager.init_app(app)
    auth_loader.init_app(app)
    security.init_app(app)
    static_files.init_app(app)
    errors.init_app(app)
    cli.init_app(app)

    from . import templating
    from .blueprints import account, admin, agency, auth, brand, client, consent, retention, schedule, survey, system
    from .blueprints import search as search_blueprint

    templating.init_app(app)
    public = (system, brand, auth, account, client, schedule, consent, survey, retention)
    for blueprint in (*public, agency, admin, search_blueprint):
        app.register_blueprint(blueprint.bp)
    import search_sync  # outbox rows on every flush, `flask search` commands

    search_sync.init_app(app)
    from .services import scoreboard_facts  # each stay's length, each share's first answer

    scoreboard_facts.register()
    return app


def _running_dev_server(instance_path: str) -> dict:
    """Where the ``make run`` of this checkout serves (``instance/make-run.json``), while it runs.

    So ``flask demo-links`` or ``flask search status`` in another terminal talk about that server
    (``PORT=5001 make run`` included); ``BASE_URL`` / ``MEILI_URL`` in the environment still win.
    """
    try:
        with open(os.path.join(instance_path, "make-run.json")) as handle:
            recorded = json.load(handle)
        os.kill(int(recorded["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    settings = {
        "BASE_URL": recorded.get("base_url"),
        "MEILI_URL": recorded.get("meili_url"),
        "MEILI_MASTER_KEY": recorded.get("meili_master_key"),
    }
    return {key: value for key, value in settings.items() if value}


def _configure_postgresql(app: Flask) -> None:
    """PostgreSQL's JIT compiler off for the portal's connections: it compiles any statement
    the planner costs high, and the scoreboard's figures over a whole history (cheap to run:
    0.15 s at 100,000 applications) spent 0.35 s more compiling. Set as a connection option, so
    a ``connect_args`` given in the settings keeps its own options beside it."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    connect_args = dict(options.get("connect_args", {}))
    connect_args["options"] = f"{connect_args.get('options', '')} -c jit=off".strip()
    options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _configure_sqlite(app: Flask) -> None:
    """SQLite enforces foreign keys only when asked, WAL lets the worker write while the web reads,
    and a writer waits for the write lock at most ``SQLITE_BUSY_TIMEOUT_MS`` (then a 503)."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    from .extensions import db

    busy_timeout_ms = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])

    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.close()

    def _begin_before_savepoint(connection, _name):
        # pysqlite opens a transaction only before INSERT/UPDATE/DELETE. A SAVEPOINT issued first
        # becomes the outermost transaction, and releasing it commits: a later rollback could not
        # undo it. Opening the transaction ourselves keeps savepoints nested, as on PostgreSQL.
        raw = connection.connection.dbapi_connection
        if not raw.in_transaction:
            raw.execute("BEGIN")

    with app.app_context():
        event.listen(db.engine, "connect", _on_connect)
        event.listen(db.engine, "savepoint", _begin_before_savepoint)


def _loads(value: str):
    try:
        return json.loads(value)
    except ValueError:
        return value
