"""The ``calmline`` command line: a thin adapter over ``calmline.pipelines``.

Exit codes: 0 success; 1 some files of a batch failed; 2 bad input or usage (the message names
the file and the reason).
"""

from __future__ import annotations

import json
import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from calmline import __version__
from calmline.monitor.errors import CalmlineError
from calmline.monitor.types import CallReport, Role

app = typer.Typer(
    name="calmline",
    help="Calmline: call-center telephony quality monitor.",
    no_args_is_help=True,
    add_completion=False,
)
out = Console()
err = Console(stderr=True, soft_wrap=True)

AUDIO_SUFFIXES = {".wav", ".mp3", ".flac", ".ogg", ".opus", ".m4a", ".aac", ".mp4", ".wma", ".au"}
STEP_LABELS = {
    "decode": "decoding audio",
    "speech": "finding speech",
    "transcribe": "transcribing",
    "roles": "assigning roles",
    "turns": "building turns",
    "measure": "measuring",
}


class Language(StrEnum):
    auto = "auto"
    zh = "zh"
    en = "en"


class Diarization(StrEnum):
    auto = "auto"
    channels = "channels"
    embedded = "embedded"
    pyannote = "pyannote"


def _version(value: bool) -> None:
    if value:
        out.print(f"calmline {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print version.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log model choices.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _settings(settings_file: Path | None):
    from calmline.monitor.settings import Settings

    return Settings.load(settings_file)


class _ProgressHook:
    """Turns pipeline hook calls into a rich progress bar on stderr."""

    def __init__(self, progress: Progress, label: str) -> None:
        from calmline.pipelines.batch import STEPS

        self.progress = progress
        self.steps = STEPS
        self.task = progress.add_task(label, total=len(STEPS))
        self.label = label

    def __call__(self, step: str, artifact: Any = None, *, completed=None, total=None) -> None:
        index = self.steps.index(step) if step in self.steps else 0
        fraction = (completed or 0) / total if total else 0
        self.progress.update(
            self.task,
            completed=index + fraction,
            description=f"{self.label}: {STEP_LABELS.get(step, step)}",
        )


def _output_path(option: Path | None, source: Path, suffix: str, many: bool) -> Path | None:
    if option is None:
        return None
    if many or option.is_dir():
        option.mkdir(parents=True, exist_ok=True)
        return option / f"{source.stem}{suffix}"
    option.parent.mkdir(parents=True, exist_ok=True)
    return option


@app.command()
def analyze(
    files: Annotated[list[Path], typer.Argument(help="Call recordings to analyse.")],
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Report JSON path ('-' = stdout; a folder for many files)."),
    ] = None,
    rttm: Annotated[Path | None, typer.Option(help="Write who-spoke-when as RTTM.")] = None,
    vtt: Annotated[Path | None, typer.Option(help="Write the transcript as WebVTT.")] = None,
    language: Annotated[Language, typer.Option(help="Language of the call.")] = Language.auto,
    asr_model: Annotated[
        str | None,
        typer.Option(help="bundled:base, bundled:tiny.en, a local model dir or a model name."),
    ] = None,
    agent_channel: Annotated[
        int | None, typer.Option(min=0, max=1, help="Stereo: the agent's channel (default 0).")
    ] = None,
    agent_speaker: Annotated[
        str | None, typer.Option(help="Mono: force this speaker (e.g. SPEAKER_01) as the agent.")
    ] = None,
    diarization: Annotated[
        Diarization, typer.Option(help="Who-spoke-when backend.")
    ] = Diarization.auto,
    num_speakers: Annotated[
        int | None, typer.Option(min=1, help="Mono: number of speakers (default 2).")
    ] = None,
    settings_file: Annotated[
        Path | None, typer.Option("--settings", help="JSON settings file.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Analyse recorded calls: who spoke when, what was said, and how it was said."""
    from calmline.pipelines.batch import AnalyzeRequest, BatchPipeline

    settings = _settings(settings_file)
    request = AnalyzeRequest(
        language=language.value,
        asr_model=asr_model,
        diarization=diarization.value,
        agent_channel=agent_channel,
        agent_speaker=agent_speaker,
        num_speakers=num_speakers,
    )
    pipeline = BatchPipeline(settings)
    many = len(files) > 1
    failed = 0
    for path in files:
        try:
            with _progress(quiet) as progress:
                hook = _ProgressHook(progress, path.name) if progress else None
                report = pipeline.analyze(path, request, hook)
        except CalmlineError as e:
            err.print(f"[red]error[/red]: {e}")
            failed += 1
            continue
        if json_out is not None and str(json_out) == "-":
            from calmline.monitor.report import report_to_json

            sys.stdout.write(report_to_json(report) + "\n")
        else:
            print_summary(report)
            _write_outputs(report, path, json_out, rttm, vtt, many)
    if failed:
        raise typer.Exit(2 if not many or failed == len(files) else 1)


def _write_outputs(report, path, json_out, rttm, vtt, many) -> None:
    from calmline.monitor.report import write_report, write_rttm, write_vtt

    for option, suffix, writer in (
        (json_out, ".json", write_report),
        (rttm, ".rttm", write_rttm),
        (vtt, ".vtt", write_vtt),
    ):
        target = _output_path(option, path, suffix, many)
        if target is not None:
            writer(report, target)
            err.print(f"wrote {target}")


class _progress:
    def __init__(self, quiet: bool) -> None:
        self.progress = None
        if not quiet:
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            )

    def __enter__(self) -> Progress | None:
        if self.progress:
            self.progress.__enter__()
        return self.progress

    def __exit__(self, *exc: Any) -> None:
        if self.progress:
            self.progress.__exit__(*exc)


def _fmt_time(t: float) -> str:
    m, s = divmod(t, 60)
    return f"{int(m):02d}:{s:05.2f}"


def print_summary(report: CallReport, console: Console | None = None) -> None:
    """A readable summary: duration, language, talk ratio, roles, and the turns."""
    console = console or out
    m = report.metrics
    a = report.audio
    console.print(f"[bold]{a.path}[/bold]  ({report.call_id})")
    ratio = f"{m.talk_ratio:.0%}" if m.talk_ratio is not None else "n/a"
    console.print(
        f"duration {a.duration:.1f} s · {a.channels} ch · {a.codec} {a.sample_rate} Hz · "
        f"language {report.language} · attribution {report.attribution}"
    )
    talk = ", ".join(f"{role} {t:.1f} s" for role, t in m.talk_time.items())
    console.print(
        f"talk: {talk} · agent talk ratio {ratio} · overlap {m.overlap_time:.1f} s · "
        f"non-talk {m.non_talk_time:.1f} s in {len(m.non_talk)} spans · {m.turn_count} turns"
    )
    agent = [s for s, r in report.roles.roles.items() if r is Role.AGENT]
    console.print(
        f"agent: {', '.join(agent) or 'none'} (by {report.roles.method}, "
        f"confidence {report.roles.confidence:.2f})"
    )
    for w in report.warnings:
        console.print(f"[yellow]warning[/yellow]: {w}")
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("time", no_wrap=True)
    table.add_column("role", no_wrap=True)
    table.add_column("rate", justify="right", no_wrap=True)
    table.add_column("dB rel", justify="right", no_wrap=True)
    table.add_column("text")
    for t in report.turns:
        tm = t.metrics
        rate = ""
        rel = ""
        if tm is not None:
            if tm.articulation_rate is not None:
                unit = "c/s" if tm.rate_unit == "chars_per_s" else "wpm"
                rate = f"{tm.articulation_rate:.1f}{unit}"
            if tm.loudness_rel_db is not None:
                rel = f"{tm.loudness_rel_db:+.1f}"
        role = t.role.value if t.role is not Role.UNKNOWN else t.speaker
        table.add_row(f"{_fmt_time(t.start)}–{_fmt_time(t.end)}", role, rate, rel, t.text)
    console.print(table)
    console.print()


@app.command()
def batch(
    folder: Annotated[Path, typer.Argument(help="Folder of call recordings.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Where reports are written.")],
    language: Annotated[Language, typer.Option(help="Language of the calls.")] = Language.auto,
    asr_model: Annotated[str | None, typer.Option(help="ASR model (see analyze).")] = None,
    diarization: Annotated[Diarization, typer.Option(help="Backend.")] = Diarization.auto,
    agent_channel: Annotated[int | None, typer.Option(min=0, max=1)] = None,
    recursive: Annotated[bool, typer.Option(help="Descend into sub-folders.")] = False,
    settings_file: Annotated[Path | None, typer.Option("--settings")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Analyse every recording in a folder; bad files are reported and skipped."""
    from calmline.monitor.report import write_report
    from calmline.pipelines.batch import AnalyzeRequest, BatchPipeline

    if not folder.is_dir():
        err.print(f"[red]error[/red]: {folder}: not a folder")
        raise typer.Exit(2)
    pattern = "**/*" if recursive else "*"
    files = sorted(
        p for p in folder.glob(pattern) if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES
    )
    if not files:
        err.print(
            f"[red]error[/red]: {folder}: no audio files ({', '.join(sorted(AUDIO_SUFFIXES))})"
        )
        raise typer.Exit(2)
    out_dir.mkdir(parents=True, exist_ok=True)
    pipeline = BatchPipeline(_settings(settings_file))
    request = AnalyzeRequest(
        language=language.value,
        asr_model=asr_model,
        diarization=diarization.value,
        agent_channel=agent_channel,
    )
    outcomes: list[dict[str, Any]] = []
    with _progress(quiet) as progress:
        overall = progress.add_task("calls", total=len(files)) if progress else None
        for i, path in enumerate(files):
            hook = _ProgressHook(progress, path.name) if progress else None
            try:
                report = pipeline.analyze(path, request, hook)
            except CalmlineError as e:
                outcomes.append({"file": str(path), "status": "failed", "error": str(e)})
            else:
                target = out_dir / f"{path.stem}.json"
                write_report(report, target)
                outcomes.append(
                    {
                        "file": str(path),
                        "status": "ok",
                        "report": str(target),
                        "duration": report.audio.duration,
                        "language": report.language,
                        "turns": len(report.turns),
                    }
                )
            finally:
                if progress:
                    progress.remove_task(hook.task)
                    progress.update(overall, completed=i + 1)
    (out_dir / "batch.json").write_text(json.dumps(outcomes, ensure_ascii=False, indent=2))
    table = Table("file", "status", "detail", box=None)
    for o in outcomes:
        detail = o.get("error") or f"{o['duration']:.1f} s, {o['language']}, {o['turns']} turns"
        color = "green" if o["status"] == "ok" else "red"
        table.add_row(Path(o["file"]).name, f"[{color}]{o['status']}[/{color}]", detail)
    out.print(table)
    failed = sum(o["status"] != "ok" for o in outcomes)
    out.print(
        f"{len(outcomes) - failed} analysed, {failed} failed; outcomes in {out_dir / 'batch.json'}"
    )
    if failed:
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
