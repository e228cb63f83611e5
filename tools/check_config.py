"""Validate the brand configuration and summarise it.

    python -m tools.check_config [PATH]        (default: chalicelib/brand.yaml)

Exit status 0 when the file is valid (a summary of teams, desks, coverage and the next opening of each
desk is printed), 1 when it is not (every problem is printed as file:line: location: problem).
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from chalicelib.configfile import ConfigError, load_config
from chalicelib.domain.config import DAYS, BrandConfig, format_minutes
from chalicelib.domain.rota import Calendar

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "chalicelib" / "brand.yaml"

app = typer.Typer(add_completion=False, help=__doc__.splitlines()[0])


def _slots(config: BrandConfig, team_id: str) -> str:
    parts = []
    for slot in config.teams[team_id].slots:
        days = [d for d in DAYS if d in slot.days]
        consecutive = [DAYS.index(d) for d in days] == list(range(DAYS.index(days[0]), DAYS.index(days[-1]) + 1))
        day_text = f"{days[0]}-{days[-1]}" if len(days) > 2 and consecutive else ",".join(days)
        end = "24:00" if slot.end == 24 * 60 else format_minutes(slot.end)
        parts.append(f"{day_text} {format_minutes(slot.start)}-{end}{' (overnight)' if slot.overnight else ''}")
    return "\n".join(parts) or "-"


def _local(t: datetime | None, config: BrandConfig) -> str:
    if t is None:
        return "-"
    from zoneinfo import ZoneInfo

    return t.astimezone(ZoneInfo(config.brand.timezone)).strftime("%a %d %b %Y %H:%M %Z")


def summarise(config: BrandConfig, console: Console, now: datetime) -> None:
    calendar = Calendar(config)
    console.print(f"[bold]{config.brand.name}[/bold] (version {config.version}, {config.brand.timezone}, "
                  f"@{config.brand.x_handle or '-'}, language {config.brand.language})")
    teams = Table(title="Teams")
    for column in ("team", "time zone", "weekly slots", "holidays", "overrides", "covers", "on shift now"):
        teams.add_column(column)
    for team_id, team in config.teams.items():
        holidays = f"{team.holidays.country}/{team.holidays.subdiv or '-'}" if team.holidays else "-"
        teams.add_row(
            team_id,
            team.timezone,
            _slots(config, team_id),
            holidays,
            str(len(team.overrides)),
            ", ".join(config.desks_covered_by(team_id)) or "-",
            "yes" if calendar.on_shift(team_id, now) else "no",
        )
    console.print(teams)
    desks = Table(title="Desks")
    for column in ("desk", "queue", "covered by", "open now", "closes", "next opening"):
        desks.add_column(column)
    for desk_id, desk in config.desks.items():
        is_open = calendar.is_open(desk_id, now)
        closes = calendar.next_closing(desk_id, now) if is_open else None
        if closes:
            opening = calendar.next_opening(desk_id, closes)
        else:
            opening = None if is_open else calendar.next_opening(desk_id, now)
        desks.add_row(
            desk_id + (" (on call)" if desk.oncall else ""),
            config.queue_name(desk_id),
            ", ".join(desk.covered_by),
            "[green]open[/green]" if is_open else "[red]closed[/red]",
            _local(closes, config) if is_open else "-",
            _local(opening, config) if opening else ("always open" if is_open else "never (within horizon)"),
        )
    console.print(desks)
    routing = config.routing
    console.print(
        f"routing: default {routing.default_desk}, on call {routing.oncall_desk or '-'}, "
        f"escalation {routing.escalation_desk}"
    )
    rules = config.triage
    console.print(
        f"triage: {sum(len(r) for r in rules.intents.values())} intent rules, {len(rules.urgent)} urgent rules, "
        f"{len(rules.desks)} desk rules, {len(rules.references)} reference kinds"
    )
    kinds = ", ".join(f"{kind}({sum(len(v) for v in by_channel.values())})"
                      for kind, by_channel in config.templates.items())
    console.print(f"templates: {kinds}")


@app.command()
def check(
    path: Path = typer.Argument(DEFAULT_PATH, help="configuration file to check"),
    at: str | None = typer.Option(None, help="ISO time for the summary (default: now)"),
    quiet: bool = typer.Option(False, "--quiet", help="no summary: only problems, or one OK line"),
) -> None:
    """Validate PATH; print a summary, or every problem with its line number."""
    console = Console()
    try:
        config = load_config(path)
    except ConfigError as exc:
        err = Console(stderr=True)
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        err.print(f"[red]{len(exc.problems)} problem(s) in {path}[/red]")
        raise typer.Exit(code=1) from None
    now = datetime.fromisoformat(at) if at else datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    if not quiet:
        summarise(config, console, now)
    console.print(f"[green]{path}: OK[/green]")


if __name__ == "__main__":
    app()
