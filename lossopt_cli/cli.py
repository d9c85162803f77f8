"""The ``lossopt`` command line: parses, calls a plain function, prints. Nothing heavy here.

TensorFlow is imported only inside commands that train; ``--help``, ``validate`` and the
other read-only commands stay fast. Bad input becomes one ``Error:`` line and exit code 2.
"""

from __future__ import annotations

import sys

import click

from . import commands
from .schema import ConfigError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


class ConfigProblem(click.ClickException):
    exit_code = EXIT_USAGE


def config_errors(fn):
    """Turn a ConfigError into one clear message and exit code 2."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ConfigError as err:
            raise ConfigProblem(str(err)) from None

    return wrapper


def _complete_set(ctx, param, incomplete):
    from click.shell_completion import CompletionItem

    from .completion import complete_set

    return [CompletionItem(value, help=text or None) for value, text in complete_set(incomplete)]


set_option = click.option(
    "--set", "overrides", multiple=True, metavar="KEY=VALUE", shell_complete=_complete_set,
    help="Override a config key, e.g. --set optimizer.name=sgd (the value is read as YAML). Repeatable.",
)


class Commands(click.Group):
    """Ctrl-C or SIGTERM in any phase of any command: exit 130 (143 for SIGTERM), never click's "Aborted!" and 1."""

    def invoke(self, ctx):
        from . import signals

        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo(f"interrupted ({signals.signal_name()})", err=True)
            ctx.exit(signals.exit_code())
        finally:
            signals.uninstall()  # as the process was (the command may run inside a Python program)


@click.group(cls=Commands, context_settings=CONTEXT)
@click.version_option(package_name="lossopt", prog_name="lossopt")
@click.option("--verbose", is_flag=True, help="Show TensorFlow's own log lines (C++ start-up, absl), in sweep workers too.")
def cli(verbose):
    """Train Keras models from YAML configs, and diagnose their curves.

    \b
      lossopt train configs/quickstart.yaml          one run -> outputs/<run>/
      lossopt validate configs/*.yaml                check configs, no training
      lossopt catalog losses                         names a config may use
      lossopt diagnose outputs/<run> --fail-on overfitting,diverged
      lossopt report outputs/<run or sweep>          redraw plots and report.html
      lossopt sweep configs/sweeps/optimizers.yaml   many runs, ranked over seeds
      lossopt compare outputs/<a> outputs/<b>        overlay curves, ranked table
      lossopt list                                   runs and sweeps under outputs/
      lossopt lr-find configs/quickstart.yaml        learning-rate range test + a suggestion
      lossopt trajectories --function rosenbrock     Keras optimizers' paths on a 2-D function
    """
    from . import signals

    signals.install()  # SIGTERM stops like Ctrl-C: at the end of a step, files whole, exit 130/143

    if verbose:  # inherited by sweep workers, which call quiet_tensorflow too
        import os

        from .training import quiet_tensorflow

        os.environ["LOSSOPT_VERBOSE"] = "1"
        quiet_tensorflow()  # undoes main's quiet default before TensorFlow loads


def _overrides(texts) -> dict:
    """``--set`` options read as YAML, once, here at the edge: ``{dotted key: value}`` from then on."""
    from .config import parse_overrides

    return parse_overrides(texts)


@cli.command()
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@set_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar; print only the final summary.")
@click.option("--resume", "resume_dir", type=click.Path(file_okay=False),
              help="Continue the interrupted run in RUN_DIR from its last checkpoint, in the same directory.")
@config_errors
def train(config, overrides, quiet, resume_dir):
    """Train the model CONFIG describes and write a run directory under outputs/.

    \b
      lossopt train configs/quickstart.yaml
      lossopt train --resume outputs/quickstart-20261123-150000
    """
    # Keras' live progress bar on a terminal; one line per epoch in a log or a pipe.
    from . import signals

    with signals.deferred():  # a signal stops training at the end of a step; the report is still written
        result = commands.train(config, _overrides(overrides), verbose=0 if quiet else (1 if sys.stdout.isatty() else 2),
                                on_note=lambda note: click.echo(f"note: {note}", err=True), resume=resume_dir)
        click.echo("\n".join(commands.train_lines(result)))
    if result.status == "interrupted" or signals.pending():
        sys.exit(signals.exit_code())
    if not result.ok:
        sys.exit(EXIT_FAILED)


@cli.command()
@click.argument("target", type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print the content of diagnosis.json.")
@click.option("--fail-on", metavar="CODE,...", help="Exit 1 when one of these codes is found, e.g. overfitting,diverged.")
@config_errors
def diagnose(target, as_json, fail_on):
    """Diagnose a run directory or any Keras CSVLogger file: findings, evidence and a verdict. A sweep
    directory: every run of it, one line each, and the tally of verdicts (--fail-on: any run)."""
    import json

    from .reporting.text import finding_lines, sweep_diagnosis_lines

    result, hit = commands.diagnose(target, fail_on)
    lines = sweep_diagnosis_lines(result) if "runs" in result else finding_lines(result)
    click.echo(json.dumps(result, indent=2) if as_json else "\n".join(lines))
    if hit:
        click.echo(f"failing: found {', '.join(hit)}", err=True)
        sys.exit(EXIT_FAILED)


@cli.command()
@click.argument("target", type=click.Path(exists=True))
@click.option("-o", "--output", type=click.Path(file_okay=False),
              help="For a CSVLogger file: the directory to write into (default: beside the file).")
@config_errors
def report(target, output):
    """Redraw curves.png, rewrite diagnosis.json and write report.html of a run; for a sweep, of
    each run, then the sweep's leaderboard, comparison plots and report.html. For a Keras CSVLogger
    file, the same beside it (<name>-curves.png, ...) or in --output."""
    click.echo("\n".join(commands.report(target, output)))


@cli.command()
@click.argument("configs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@set_option
@config_errors
def validate(configs, overrides):
    """Check configs (and sweep files) without training and without importing TensorFlow: the
    schema, then the pre-flight data checks (loss vs labels, output layer, metrics, batch size).
    A sweep file is expanded and every run it makes is checked."""
    values = _overrides(overrides)
    failed = 0
    for path in configs:
        try:
            summary, notes = commands.validate(path, values)
        except ConfigError as err:
            failed += 1
            click.echo(f"Error: {err.in_file(path)}", err=True)
            continue
        for note in notes:
            click.echo(f"note: {path}: {note}", err=True)
        first, _, inferred = summary.partition("\n")  # a CSV file: what was inferred, one line each
        click.echo(f"ok: {path} ({first})" + (f"\n{inferred}" if inferred else ""))
    if failed:
        sys.exit(EXIT_USAGE)


@cli.command()
@click.argument("kind", required=False, type=click.Choice(commands.CATALOG_KINDS))
def catalog(kind):
    """List the names a config may use for KIND (losses, optimizers, metrics, datasets, models,
    schedules), each with a description and its parameters. No KIND: a summary of the kinds."""
    click.echo("\n".join(commands.catalog(kind)))


@cli.command()
@click.argument("sweep_file", required=False, type=click.Path(dir_okay=False))
@click.option("--workers", type=click.IntRange(1), default=None, help="Worker processes (default: one per core).")
@click.option("--executor", type=click.Choice(commands.EXECUTOR_NAMES), default=commands.DEFAULT_EXECUTOR,
              show_default=True,
              help="auto: runs that can share a step trained together (fused), over worker processes; "
                   "processes: one run at a time per worker; fused: fused groups in this process; "
                   "serial: one run after another in this process; ray: what auto runs, as Ray tasks on a "
                   "local Ray instance or the cluster at --address.")
@click.option("--address", help="--executor ray: the Ray cluster (HEAD_IP:6379, ray://HEAD_IP:10001 or auto); "
              "default: a local Ray instance started for the sweep.")
@set_option
@click.option("--resume", "resume_dir", type=click.Path(file_okay=False, exists=True),
              help="Finish an interrupted sweep: run only what is missing in SWEEP_DIR.")
@click.option("--dry-run", is_flag=True, help="List the runs and estimate the time; train nothing.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines; print only the leaderboard.")
@click.option("-y", "--yes", is_flag=True, help="Start a sweep of more than 1000 runs without asking.")
@config_errors
def sweep(sweep_file, workers, executor, address, overrides, resume_dir, dry_run, quiet, yes):
    """Run the configs a sweep file describes (a base config and the keys to vary) and rank them.

    \b
      lossopt sweep configs/sweeps/optimizers.yaml --dry-run
      lossopt sweep configs/sweeps/optimizers.yaml --workers 2
      lossopt sweep --resume outputs/optimizers-20261123-150000
      lossopt sweep configs/sweeps/optimizers.yaml --executor ray --address auto
    """
    options = {"executor": executor, "workers": workers, "resume": resume_dir, "address": address}
    if dry_run:
        click.echo("\n".join(commands.dry_run(sweep_file, _overrides(overrides), **options)))
        return
    outcome = commands.sweep(sweep_file, _overrides(overrides), quiet=quiet, yes=yes, **options)
    click.echo("\n".join(outcome.lines()))
    from . import signals

    if outcome.interrupted or signals.pending():
        sys.exit(signals.exit_code())
    if outcome.failed:
        sys.exit(EXIT_FAILED)


@cli.command()
@click.argument("targets", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Where to draw the overlay (default: <sweep>-comparison.png beside a single sweep directory, "
                   "else outputs/comparison-<time>.png).")
@config_errors
def compare(targets, output):
    """Overlay finished runs (run or sweep directories, or CSVLogger files) and print a ranked table."""
    lines, _ = commands.compare(targets, output)
    click.echo("\n".join(lines))


@cli.command(name="list")
@click.argument("directory", required=False, default="outputs", type=click.Path(file_okay=False))
def list_(directory):
    """List the runs and sweeps under DIRECTORY (default: outputs) with status, verdict and best metric."""
    click.echo("\n".join(commands.list_runs(directory)))


@cli.command()
@click.option("--sweep", is_flag=True, help="The schema of a sweep file instead of a run config.")
def schema(sweep):
    """Print the JSON Schema of a config (or of a sweep file) for editors, generated from the same
    constraints lossopt validate checks. VS Code (YAML extension): start a config with
    # yaml-language-server: $schema=<path or URL of the schema>."""
    click.echo(commands.render_schema(sweep), nl=False)


@cli.group()
def export():
    """Send runs and sweeps to another tool (lossopt export mlflow PATH...)."""


@export.command(name="mlflow")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI, else MLflow's default), "
                            "e.g. sqlite:///mlflow.db.")
@click.option("--experiment", help="MLflow experiment (default: the sweep's or the run's name).")
@config_errors
def export_mlflow(paths, uri, experiment):
    """Send run and sweep directories to MLflow: params, per-epoch metrics, verdict tags, files as artifacts;
    a sweep as a parent run with its runs nested. A second export of the same directory adds nothing.

    \b
      lossopt export mlflow outputs/optimizers-20261123-150000 --uri sqlite:///mlflow.db
      mlflow ui --backend-store-uri sqlite:///mlflow.db
    """
    click.echo("\n".join(commands.export_mlflow(paths, uri, experiment)))


@cli.command(name="lr-find")
@click.argument("config", type=click.Path(dir_okay=False))
@set_option
@click.option("--start", type=float, default=1e-7, show_default=True, help="The first learning rate.")
@click.option("--end", type=float, default=10.0, show_default=True, help="The last learning rate.")
@click.option("--steps", type=int, default=100, show_default=True, help="Batches, the rate rising exponentially.")
@click.option("--diverge", type=float, default=4.0, show_default=True,
              help="Stop once the smoothed loss passes this many times its minimum.")
@config_errors
def lr_find(config, overrides, start, end, steps, diverge):
    """Learning-rate range test: train CONFIG's model briefly with a rising rate (weights restored after),
    suggest rates (valley, steepest, minimum/10) and print the command that uses the recommended one.
    Writes lr_find.json and lr_find.png to outputs/<name>-lrfind-<time>/."""
    outcome = commands.lr_find(config, _overrides(overrides), start=start, end=end, steps=steps, diverge=diverge)
    click.echo("\n".join(outcome.lines()))
    if outcome.test.learning_rate is None:
        sys.exit(EXIT_FAILED)


@cli.command()
@click.option("--function", "function", default="rosenbrock", show_default=True, metavar="NAME",
              help="rosenbrock, beale, himmelblau, saddle, ill_conditioned or rastrigin.")
@click.option("--optimizers", default="sgd,momentum,nesterov,rmsprop,adam", show_default=True, metavar="A,B,...",
              help="Optimizer names from `lossopt catalog optimizers`.")
@click.option("--steps", type=int, default=200, show_default=True, help="Optimizer steps per path.")
@click.option("--lr", "rates", multiple=True, metavar="NAME=RATE", help="Learning rate of one optimizer. Repeatable.")
@click.option("--start", metavar="X,Y", help="Starting point (default: the function's own).")
@click.option("--condition", type=float, help="ill_conditioned: the condition number (default 20).")
@click.option("--animate", type=click.Choice(["gif", "html"]), help="Also write the paths animated.")
@click.option("--output-dir", default="outputs", show_default=True, type=click.Path(file_okay=False),
              help="Where the new trajectories-<function>-<time>/ directory goes.")
@config_errors
def trajectories(function, optimizers, steps, rates, start, condition, animate, output_dir):
    """Step real Keras optimizers on a 2-D test function and draw their paths over its contours
    (trajectories.png, trajectories.json; --animate gif|html for an animation)."""
    outcome = commands.trajectories(function, optimizers, steps, rates, start, condition, animate, output_dir)
    click.echo("\n".join(outcome.lines()))


def main():
    from .training import quiet_tensorflow

    quiet_tensorflow()  # the entry point, not an import, sets the process up
    from .sweeps import workers

    workers.start_early(sys.argv[1:])  # a sweep's workers import TensorFlow meanwhile (done by entry.main)
    from . import signals

    signals.owns_process()  # a signal after the command finished is ignored, not click's "Aborted!" and exit 1
    try:
        cli(prog_name="lossopt")
    except SystemExit as done:  # click ends every command so, success included
        workers.discard()  # started early for a sweep that never asked for them (a bad sweep file)
        from .training.quick_exit import leave

        leave(done.code)  # a process that trained: its files are written, TensorFlow's teardown is skipped
        raise
    finally:
        workers.discard()


if __name__ == "__main__":
    main()
