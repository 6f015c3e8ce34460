"""``python -m portal worker [--once]``: the Procfile's worker, without the ``flask`` launcher.

The same command as ``flask worker``. The app comes from ``create_app`` and the environment alone:
``.flaskenv`` is a convenience for ``flask`` in a development checkout and must not turn a
production process into a development one.
"""

import click
from flask.cli import ScriptInfo

from . import create_app
from .cli import worker_command


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Agency Portal processes."""
    ctx.obj = ScriptInfo(create_app=create_app, set_debug_flag=False)


main.add_command(worker_command)

if __name__ == "__main__":
    main(prog_name="python -m portal")
