"""The ``calmline`` command line: a thin adapter over ``calmline.pipelines``.

Exit codes: 0 success; 1 some files of a batch failed; 2 bad input or usage (the message names
the file and the reason).
"""

from __future__ import annotations

import json
import logging
import sys
import unicodedata
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from calmline import __version__
from calmline.monitor.audio import AUDIO_SUFFIXES
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

STEP_LABELS = {
    "decode": "decoding audio",
    "speech": "finding speech",
    "transcribe": "transcribing",
    "roles": "assigning roles",
    "turns": "building turns",
    "measure": "measuring",
    "score": "scoring",
    "redact": "redacting personal data",
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


DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Database and stored audio (default: storage.data_dir, ~/.local/share/calmline). "
        "Give every command of one server the same one.",
    ),
]
SettingsFile = Annotated[Path | None, typer.Option("--settings", help="Settings JSON file.")]


def _settings(
    settings_file: Path | None,
    rubrics: list[Path] | None = None,
    data_dir: Path | None = None,
):
    from pydantic import ValidationError

    from calmline.monitor.rubric import RubricError, load_rubric
    from calmline.monitor.settings import Settings

    try:
        settings = Settings.load(settings_file)
    except (OSError, ValueError) as e:  # ValidationError is a ValueError
        where = f"{settings_file}: " if settings_file else ""
        reason = e if not isinstance(e, ValidationError) else _validation_problems(e)
        err.print(f"[red]error[/red]: settings: {where}{escape(str(reason))}")
        raise typer.Exit(2) from e
    if data_dir is not None:
        storage = settings.storage.model_copy(update={"data_dir": str(data_dir.resolve())})
        settings = settings.model_copy(update={"storage": storage})
    if rubrics:
        for path in rubrics:
            try:
                load_rubric(path)  # refuse a bad rubric before any audio is touched
            except (RubricError, OSError) as e:
                err.print(f"[red]error[/red]: {e}")
                raise typer.Exit(2) from e
        settings = settings.model_copy(
            update={
                "scoring": settings.scoring.model_copy(
                    update={"rubrics": [str(p) for p in rubrics]}
                )
            }
        )
    return settings


def _validation_problems(e) -> str:
    return "; ".join(
        f"{'.'.join(str(x) for x in p.get('loc', ()))}: {p.get('msg')}" for p in e.errors()
    )


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
    rttm: Annotated[
        Path | None,
        typer.Option(help="Write who spoke when as RTTM (speaker labels and speech segments)."),
    ] = None,
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
    rubric: Annotated[
        list[Path] | None,
        typer.Option(help="Rubric YAML (repeat for zh and en); default: the bundled ones."),
    ] = None,
    settings_file: Annotated[
        Path | None, typer.Option("--settings", help="JSON settings file.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Analyse recorded calls: who spoke when, what was said, how, and how well."""
    from calmline.pipelines.batch import AnalyzeRequest, BatchPipeline

    settings = _settings(settings_file, rubric)
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
            if report.scorecard is not None:
                print_scorecard(report)
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


try:  # the terminal's own width table where installed; the Unicode property otherwise
    from wcwidth import wcwidth as _wcwidth
except ImportError:  # pragma: no cover - depends on the environment
    _wcwidth = None

_NO_LINE_START = frozenset("，。、；：？！）」』】》〉”’…·,.;:?!)]}%")
"""Closing punctuation that Chinese typesetting never puts at the start of a line: it stays with
the character before it."""
_NO_LINE_END = frozenset("（「『【《〈“‘([{")
"""Opening punctuation that never ends a line: it stays with the character after it."""


def char_width(ch: str) -> int:
    """Terminal columns of one character: 2 for wide and full-width ones (Chinese), 0 for
    combining marks, else 1."""
    if _wcwidth is not None:
        w = _wcwidth(ch)
        if w >= 0:
            return w
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Terminal columns a string takes."""
    return sum(char_width(ch) for ch in text)


def _wrap_units(text: str) -> list[tuple[str, bool]]:
    """``text`` as unbreakable units with whether a space came before each: a word of a spaced
    script is one unit, each Chinese character its own, punctuation glued to its neighbour."""
    units: list[list] = []
    space = False
    for ch in text:
        if ch.isspace():
            space = bool(units)
            continue
        if units and not space:
            last = units[-1][0][-1]
            narrow_run = char_width(ch) == 1 and char_width(last) == 1
            if ch in _NO_LINE_START or last in _NO_LINE_END or narrow_run:
                units[-1][0] += ch
                continue
        units.append([ch, space])
        space = False
    return [(u, sp) for u, sp in units]


def wrap_display(text: str, width: int) -> list[str]:
    """Break ``text`` into lines of at most ``width`` terminal columns without losing a character:
    between the words of spaced scripts, between any two Chinese characters, never with closing
    punctuation at the start of a line; a unit wider than a line is folded."""
    width = max(width, 2)
    lines: list[str] = []
    line, used = "", 0
    for unit, space in _wrap_units(text):
        sep = " " if space and line else ""
        w = display_width(unit)
        if line and used + len(sep) + w > width:
            lines.append(line)
            line, used, sep = "", 0, ""
        if w <= width:
            line, used = line + sep + unit, used + len(sep) + w
            continue
        for ch in sep + unit:  # fold a unit longer than a line
            cw = char_width(ch)
            if line and used + cw > width:
                lines.append(line)
                line, used = "", 0
            line, used = line + ch, used + cw
    if line or not lines:
        lines.append(line)
    return lines


def print_summary(report: CallReport, console: Console | None = None) -> None:
    """A readable summary: duration, language, talk ratio, roles, and the turns."""
    console = console or out
    m = report.metrics
    a = report.audio
    console.print(f"[bold]{escape(str(a.path))}[/bold]  ({escape(report.call_id)})")
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
        console.print(f"[yellow]warning[/yellow]: {escape(w)}")
    rows = []
    for t in report.turns:
        tm = t.metrics
        rate = ""
        rel = ""
        if tm is not None:
            if tm.articulation_rate is not None:
                units = {"chars_per_s": "c/s", "syllables_per_s": "syl/s"}
                unit = units.get(tm.rate_unit, "wpm")
                rate = f"{tm.articulation_rate:.1f}{unit}"
            if tm.loudness_rel_db is not None:
                rel = f"{tm.loudness_rel_db:+.1f}"
        role = t.role.value if t.role is not Role.UNKNOWN else t.speaker
        rows.append((f"{_fmt_time(t.start)}–{_fmt_time(t.end)}", role, rate, rel, t.text))
    headers = ("time", "role", "rate", "dB rel", "text")
    # the text column gets what the others leave (two columns between cells); Chinese turns are
    # wrapped by display width there instead of being cut
    fixed = sum(
        max([display_width(h), *(display_width(r[i]) for r in rows)])
        for i, h in enumerate(headers[:4])
    )
    text_width = max(console.width - fixed - 2 * 4, 16)
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("time", no_wrap=True)
    table.add_column("role", no_wrap=True)
    table.add_column("rate", justify="right", no_wrap=True)
    table.add_column("dB rel", justify="right", no_wrap=True)
    table.add_column("text", overflow="fold")
    for *cells, text in rows:
        table.add_row(*cells, "\n".join(escape(line) for line in wrap_display(text, text_width)))
    console.print(table)
    console.print()


def print_scorecard(report: CallReport, console: Console | None = None) -> None:
    """A compact scorecard: overall, de-escalation, then one row per practice."""
    from calmline.monitor.scoring import count_findings, format_time, worst_finding

    console = console or out
    card = report.scorecard
    if card is None:
        return
    cap = (
        f" (capped from {card.uncapped:.0f} by {', '.join(card.capped_by)})"
        if card.capped_by
        else ""
    )
    console.print(
        f"[bold]score {card.overall:.0f}/100[/bold]{cap} · "
        f"rubric {card.rubric} {card.rubric_version}"
    )
    if card.needs_review:
        console.print("[bold yellow]needs review[/bold yellow] (scored for QA, no coaching):")
        for r in card.review_reasons:
            console.print(f"- {escape(r.code)}: {escape(r.detail)}")
    st = card.stress
    console.print(f"customer: {st.result} — {escape(st.evidence)}")
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    # practice names in the rubric's language, wrapped (not cut) past 28 columns
    names = [display_width(p.name or p.practice) for p in card.practices]
    name_width = min(max(names, default=8), 28)
    table.add_column("practice", overflow="fold", min_width=name_width, max_width=28)
    table.add_column("score", justify="right", no_wrap=True, min_width=5)
    table.add_column("faults", justify="right", no_wrap=True, min_width=6)
    table.add_column("credits", justify="right", no_wrap=True, min_width=7)
    # the moment takes what the other columns leave (else Rich squeezes the names out)
    moment_width = max(min(60, console.width - name_width - 5 - 6 - 7 - 4), 10)
    table.add_column("key moment", overflow="ellipsis", no_wrap=True, max_width=moment_width)
    for p in card.practices:
        score = "—" if p.score is None else f"{p.score:.0f}"
        if p.critical:
            score = f"[red]{score} CRITICAL[/red]"
        moment = ""
        worst = worst_finding(p.findings)
        if not p.applicable:
            moment = f"not applicable: {escape(p.reason or '')}"
        elif worst is not None:
            when = "whole call" if worst.start is None else format_time(worst.start)
            quote = _marked_quote(worst)
            moment = f"{when} {escape(worst.kind)}" + (f": {quote}" if quote else "")
        faults, credits = count_findings(p.findings)
        table.add_row(escape(p.name or p.practice), score, str(faults), str(credits), moment)
    console.print(table)
    coached = [p for p in card.practices if p.coaching]
    if coached:
        console.print("[bold]coaching[/bold]")
        for p in coached:
            # the rubric's language: a Chinese name takes the full-width colon
            colon = "：" if card.language == "zh" else ": "
            lines = wrap_display(f"- {p.name}{colon}{p.coaching}", max(console.width - 2, 16))
            console.print("\n  ".join(escape(line) for line in lines), soft_wrap=True)
    console.print()


def _marked_quote(f) -> str:
    """A finding's quote as console markup: the words a phrase matched in bold, followed by
    how they matched (exact, normalised, phonetic, fuzzy)."""
    a, b = f.match_start, f.match_end
    if f.match_kind is None or a is None or b is None or f.quote[a:b] != f.matched:
        return escape(f.quote)
    q = f.quote
    marked = f"{escape(q[:a])}[bold]{escape(q[a:b])}[/bold]{escape(q[b:])}"
    return f"{marked} ({escape(f.match_kind)})"


@app.command()
def score(
    reports: Annotated[list[Path], typer.Argument(help="Stored report JSON files.")],
    rubric: Annotated[
        list[Path] | None, typer.Option(help="Rubric YAML (repeat for zh and en).")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the re-scored report here ('-' = stdout).")
    ] = None,
) -> None:
    """Re-score stored reports with another rubric: no audio, no models."""
    from calmline.monitor.report import ReportFormatError, read_report, report_to_json
    from calmline.monitor.rubric import default_rubric, load_rubric
    from calmline.monitor.scoring import score_report

    rubrics = {}
    for path in rubric or ():
        r = load_rubric(path)
        rubrics[r.language] = r
    for path in reports:
        try:
            report = read_report(path)
        except (OSError, ReportFormatError, ValueError) as e:
            err.print(f"[red]error[/red]: {path}: {e}")
            raise typer.Exit(2) from e
        language = report.language if report.language in ("zh", "en") else "en"
        scored = score_report(report, rubrics.get(language) or default_rubric(language))
        if json_out is not None and str(json_out) == "-":
            sys.stdout.write(report_to_json(scored) + "\n")
            continue
        print_scorecard(scored)
        if json_out is not None:
            target = _output_path(json_out, path, ".json", len(reports) > 1)
            target.write_text(report_to_json(scored), encoding="utf-8")
            err.print(f"wrote {target}")


rubric_app = typer.Typer(help="Check and show scoring rubrics.", no_args_is_help=True)
app.add_typer(rubric_app, name="rubric")


@rubric_app.command("check")
def rubric_check(files: Annotated[list[Path], typer.Argument(help="Rubric YAML files.")]) -> None:
    """Validate rubric files; errors name the line, the key and what is wrong."""
    from calmline.monitor.rubric import RubricError, load_rubric

    bad = 0
    for path in files:
        try:
            r = load_rubric(path)
        except (RubricError, OSError) as e:
            err.print(f"[red]error[/red]: {e}")
            bad += 1
        else:
            enabled = sum(p.enabled for p in r.practices.values())
            out.print(f"{path}: ok — {r.rubric} {r.version} ({r.language}), {enabled} practices")
    if bad:
        raise typer.Exit(2)


@rubric_app.command("show")
def rubric_show(
    file: Annotated[
        Path | None, typer.Argument(help="Rubric YAML; default: the bundled one.")
    ] = None,
    language: Annotated[Language, typer.Option(help="Bundled rubric's language.")] = Language.zh,
) -> None:
    """Print a rubric's practices, weights, thresholds and lexicon sizes."""
    from calmline.monitor.rubric import default_rubric, load_rubric

    lang = language.value if language is not Language.auto else "en"
    r = load_rubric(file) if file else default_rubric(lang)
    out.print(
        f"[bold]{r.rubric} {r.version}[/bold] ({r.language}) · critical cap {r.critical_cap:.0f}"
        f" · coaching below {r.coaching_below:.0f}"
    )
    table = Table("practice", "name", "weight", "critical", "thresholds", "phrases", box=None)
    for pid, p in r.practices.items():
        thresholds = ", ".join(f"{k}={v:g}" for k, v in p.thresholds.items())
        phrases = ", ".join(f"{k}:{len(v)}" for k, v in p.phrases.items())
        name = p.name if p.enabled else f"{p.name} (off)"
        table.add_row(pid, name, f"{p.weight:g}", "yes" if p.critical else "", thresholds, phrases)
    out.print(table)


def _batch_one(pipeline, path: Path, request, out_dir: Path, hook=None) -> dict[str, Any]:
    """Analyse one file of a batch and write its report; a bad file becomes a failed outcome."""
    from calmline.monitor.report import write_report

    try:
        report = pipeline.analyze(path, request, hook)
    except CalmlineError as e:
        return {"file": str(path), "status": "failed", "error": str(e)}
    target = out_dir / f"{path.stem}.json"
    write_report(report, target)
    return {
        "file": str(path),
        "status": "ok",
        "report": str(target),
        "duration": report.audio.duration,
        "language": report.language,
        "turns": len(report.turns),
    }


def _batch_pool(files, request, out_dir, settings, workers, progress, overall):
    """Analyse ``files`` with ``workers`` threads sharing one pipeline; outcomes in file order.

    Threads sharing the loaded models rather than processes with models of their own: measured
    with ``bench/speed.py`` on 2 cores, 4 calls took 44-49 s with two threads against 52-67 s
    with two processes, which each start an interpreter and load Whisper and the diarizer
    again, and the one process peaked at 1.0-1.1 GB where two took 0.8 GB each. The GIL costs
    little: CTranslate2, onnxruntime and torch release it while they compute. The model manager
    gives Whisper one replica per worker (weights shared) and splits the cores between them;
    torch gets the same share through ``OMP_NUM_THREADS``, read when it is first imported
    (only for mono calls), so the workers do not oversubscribe the cores.
    """
    import os
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from calmline.pipelines.batch import BatchPipeline

    threads = max(1, (os.cpu_count() or 1) // workers)
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    pipeline = BatchPipeline(
        settings.model_copy(update={"jobs": settings.jobs.model_copy(update={"workers": workers})})
    )

    def run(path: Path) -> dict[str, Any]:
        hook = _ProgressHook(progress, path.name) if progress else None
        try:
            return _batch_one(pipeline, path, request, out_dir, hook)
        finally:
            if progress:
                progress.remove_task(hook.task)

    outcomes: list[dict[str, Any] | None] = [None] * len(files)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="calmline-batch") as pool:
        futures = {pool.submit(run, path): i for i, path in enumerate(files)}
        for done, future in enumerate(as_completed(futures), start=1):
            outcomes[futures[future]] = future.result()
            if progress:
                progress.update(overall, completed=done)
    return outcomes


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
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Calls analysed at once; the workers share the loaded models and the CPU cores.",
        ),
    ] = 1,
) -> None:
    """Analyse every recording in a folder; bad files are reported and skipped."""
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
    settings = _settings(settings_file)
    request = AnalyzeRequest(
        language=language.value,
        asr_model=asr_model,
        diarization=diarization.value,
        agent_channel=agent_channel,
    )
    workers = min(workers, len(files))
    outcomes: list[dict[str, Any]] = []
    with _progress(quiet) as progress:
        overall = progress.add_task("calls", total=len(files)) if progress else None
        if workers > 1:
            outcomes = _batch_pool(files, request, out_dir, settings, workers, progress, overall)
        else:
            pipeline = BatchPipeline(settings)
            for i, path in enumerate(files):
                hook = _ProgressHook(progress, path.name) if progress else None
                try:
                    outcomes.append(_batch_one(pipeline, path, request, out_dir, hook))
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


keys_app = typer.Typer(help="API keys of the server (stored hashed; a key is shown once).")
app.add_typer(keys_app, name="keys")


class KeyRole(StrEnum):
    admin = "admin"
    qa_lead = "qa_lead"
    supervisor = "supervisor"
    agent = "agent"


def _store(settings_file: Path | None, data_dir: Path | None):
    """The store of the server that ``--settings`` / ``--data-dir`` describe (as ``serve``)."""
    from calmline.monitor.store import Store

    store = Store.from_settings(_settings(settings_file, data_dir=data_dir))
    store.migrate()
    return store


@keys_app.command("create")
def keys_create(
    role: Annotated[KeyRole, typer.Option("--role", help="What the key may do.")],
    agent: Annotated[
        str | None, typer.Option("--agent", help="Agent id (required for agent keys).")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="A label for the key.")] = None,
    data_dir: DataDir = None,
    settings_file: SettingsFile = None,
) -> None:
    """Create an API key and print it (only once; only its hash is stored)."""
    store = _store(settings_file, data_dir)
    try:
        created = store.create_api_key(role.value, agent, name)
    except ValueError as e:
        err.print(f"[red]error[/red]: {e}")
        raise typer.Exit(2) from e
    finally:
        store.close()
    bound = f" for agent {created.info.agent_id}" if created.info.agent_id else ""
    err.print(f"created {created.info.role} key {created.info.id}{bound}; it is shown once:")
    print(created.key)


@keys_app.command("list")
def keys_list(
    data_dir: DataDir = None,
    settings_file: SettingsFile = None,
) -> None:
    """List API keys (ids and roles; the keys themselves are not stored)."""
    store = _store(settings_file, data_dir)
    table = Table("id", "role", "agent", "name", "created", "revoked", box=None)
    for k in store.list_api_keys():
        table.add_row(
            k.id,
            k.role,
            k.agent_id or "",
            k.name or "",
            f"{k.created_at:%Y-%m-%d %H:%M}",
            "yes" if k.revoked else "",
        )
    store.close()
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key id shown by `keys list`.")],
    data_dir: DataDir = None,
    settings_file: SettingsFile = None,
) -> None:
    """Revoke an API key (open live feeds and sockets of it close within
    ``server.auth_recheck_s``)."""
    store = _store(settings_file, data_dir)
    try:
        store.revoke_api_key(key_id)
    except KeyError as e:
        err.print(f"[red]error[/red]: no key with id {key_id}")
        raise typer.Exit(2) from e
    finally:
        store.close()
    err.print(f"revoked {key_id}")


labels_app = typer.Typer(
    help="Field labels: machine findings QA evaluations confirmed or rejected, and the ones "
    "they added.",
    no_args_is_help=True,
)
app.add_typer(labels_app, name="labels")


class LabelVerdict(StrEnum):
    confirmed = "confirmed"
    rejected = "rejected"
    missed = "missed"


@labels_app.command("export")
def labels_export(
    out_file: Annotated[
        Path | None, typer.Option("--out", help="JSONL file to write (default: stdout).")
    ] = None,
    verdict: Annotated[
        list[LabelVerdict] | None,
        typer.Option("--verdict", help="Only this verdict (repeat); default: all three."),
    ] = None,
    data_dir: DataDir = None,
    settings_file: SettingsFile = None,
) -> None:
    """Write the judged findings of every call's newest published evaluation as JSON lines
    (as GET /api/v1/evaluations/labels.jsonl): bench/field_labels.py reads them."""
    store = _store(settings_file, data_dir)
    try:
        records = store.field_labels([v.value for v in verdict] if verdict else None)
    finally:
        store.close()
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if out_file is None:
        sys.stdout.write(text)
    else:
        try:
            out_file.write_text(text, encoding="utf-8")
        except OSError as e:
            err.print(f"[red]error[/red]: {out_file}: {e.strerror or e}")
            raise typer.Exit(2) from e
    err.print(f"{len(records)} label(s)" + (f" written to {out_file}" if out_file else ""))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Analysis workers (default 1).")
    ] = None,
    watch: Annotated[
        Path | None, typer.Option("--watch", help="Folder of PBX exports to ingest.")
    ] = None,
    executor: Annotated[
        str | None,
        typer.Option(
            "--executor",
            help="Where analyses run: inprocess (default) or ray (actors on a Ray cluster).",
        ),
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            help="Ray head to join, HOST:PORT (with --executor ray; default: a local Ray).",
        ),
    ] = None,
    data_dir: DataDir = None,
    settings_file: SettingsFile = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Run the Calmline server: REST API, background analysis, live ingest and pages."""
    import uvicorn

    from calmline.api.app import create_app

    settings = _settings(settings_file, data_dir=data_dir)
    if executor is not None and executor not in ("inprocess", "ray"):
        raise typer.BadParameter(
            f"{executor!r} is not one of inprocess, ray", param_hint="--executor"
        )
    if ray_address and executor is None:
        executor = "ray"  # an address only means something to the Ray executor
    updates = {
        "server": {"host": host, "port": port},
        "jobs": {"workers": workers},
        "watch": {"dir": str(watch) if watch else None},
        "executor": {"kind": executor, "ray_address": ray_address},
    }
    for section, values in updates.items():
        values = {k: v for k, v in values.items() if v is not None}
        if values:
            current = getattr(settings, section)
            settings = settings.model_copy(update={section: current.model_copy(update=values)})
    logging.getLogger("calmline").setLevel(logging.INFO)
    app_ = create_app(settings)
    err.print(
        f"calmline {__version__}: http://{settings.server.host}:{settings.server.port} "
        f"(database {settings.storage.resolved_database_url()})"
    )
    uvicorn.run(
        app_,
        host=settings.server.host,
        port=settings.server.port,
        log_level=log_level,
        ws="websockets-sansio",
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
