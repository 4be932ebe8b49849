"""The REST API on a real uvicorn server (``calmline serve`` in a subprocess) with SQLite."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import SAMPLES
from tests.live_client import OVERALL_TOLERANCE
from tests.server import CalmlineServer
from tests.transcripts import RUN_ERROR_BOUND, error_rate, joined

UPLOADS = {
    # sample -> (agent, started_at, language sent)
    "en_stereo_mulaw": ("a1", "2026-11-02T09:00:00", "auto"),
    "en_mono": ("a1", "2026-11-03T10:00:00", "en"),
    "zh_stereo": ("a2", "2026-11-10T11:00:00", "zh"),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory, cache_dir):
    data = tmp_path_factory.mktemp("api")
    with CalmlineServer(
        data / "data", cache_dir, env={"CALMLINE_SERVER__MAX_UPLOAD_MB": "3"}
    ) as srv:
        yield srv


@pytest.fixture(scope="module")
def keys(server):
    return {
        "admin": server.key("admin"),
        "qa_lead": server.key("qa_lead"),
        "supervisor": server.key("supervisor"),
        "a1": server.key("agent", "a1"),
        "a2": server.key("agent", "a2"),
    }


@pytest.fixture(scope="module")
def calls(server, keys, analyzed):
    """Each sample uploaded and analysed: name -> (call_id, job)."""
    out = {}
    for name, (agent, started, language) in UPLOADS.items():
        r = server.upload(
            keys["supervisor"],
            SAMPLES / f"{name}.wav",
            agent,
            call_id=f"call-{name}",
            started_at=started,
            language=language,
            metadata=json.dumps({"queue": "billing", "sample": name}),
        )
        assert r.status_code == 202, r.text
        out[name] = r.json()
    for name, accepted in out.items():
        job = server.wait_job(keys["admin"], accepted["job_id"])
        assert job["state"] == "done", job
        out[name] = (accepted["call_id"], job)
    return out


def test_upload_each_sample_gives_the_same_report_as_the_pipeline(server, keys, calls, analyzed):
    with server.client(keys["qa_lead"]) as c:
        for name, (call_id, job) in calls.items():
            assert job["progress"] == 1.0 and job["attempts"] == 1
            report = c.get(f"/api/v1/calls/{call_id}/report").json()
            expected, _ = analyzed(name)
            assert report["call_id"] == call_id
            assert report["language"] == expected.language
            # two runs of the models (server and in-process) agree within a tolerance, never to
            # the word: decoding differs with threads and CPUs (tests/transcripts.py)
            assert abs(len(report["turns"]) - len(expected.turns)) <= 2
            lang = expected.language
            served = joined((t["text"] for t in report["turns"]), lang)
            assert error_rate(joined((t.text for t in expected.turns), lang), served, lang) <= (
                RUN_ERROR_BOUND
            )
            assert report["scorecard"]["overall"] == pytest.approx(
                expected.scorecard.overall, abs=OVERALL_TOLERANCE
            )
            summary = c.get(f"/api/v1/calls/{call_id}").json()
            assert summary["status"] == "done"
            assert summary["overall"] == report["scorecard"]["overall"]
            assert summary["metadata"] == {"queue": "billing", "sample": name}
            assert set(summary["practices"]) == {
                p["practice"] for p in report["scorecard"]["practices"]
            }


def test_filters_and_pagination(server, keys, calls):
    with server.client(keys["admin"]) as c:

        def ids(**params) -> list[str]:
            body = c.get("/api/v1/calls", params=params).json()
            return [item["call_id"] for item in body["items"]]

        assert ids() == ["call-zh_stereo", "call-en_mono", "call-en_stereo_mulaw"]
        page = c.get("/api/v1/calls", params={"limit": 1, "offset": 1}).json()
        assert page["total"] == 3 and [i["call_id"] for i in page["items"]] == ["call-en_mono"]
        assert ids(agent_id="a2") == ["call-zh_stereo"]
        assert ids(language="zh") == ["call-zh_stereo"]
        assert ids(since="2026-11-03T00:00:00", until="2026-11-04T00:00:00") == ["call-en_mono"]
        overall = {i["call_id"]: i["overall"] for i in c.get("/api/v1/calls").json()["items"]}
        lo = min(overall.values())
        assert ids(max_score=lo) == [k for k, v in overall.items() if v <= lo]
        assert ids(min_score=lo + 0.01) == [k for k, v in overall.items() if v > lo]
        items = c.get("/api/v1/calls").json()["items"]
        let_finish = {i["call_id"]: i["practices"]["let_finish"] for i in items}
        cut = max(let_finish.values())
        assert ids(practice="let_finish", below=cut) == [
            k for k, v in let_finish.items() if v < cut
        ]
        crit = [i["call_id"] for i in items if i["critical"]]
        assert ids(critical="true") == crit
        assert ids(critical="false") == [i["call_id"] for i in items if not i["critical"]]


def test_audio_range_requests(server, keys, calls):
    call_id = calls["en_stereo_mulaw"][0]
    size = (SAMPLES / "en_stereo_mulaw.wav").stat().st_size
    with server.client(keys["a1"]) as c:
        full = c.get(f"/api/v1/calls/{call_id}/audio")
        assert full.status_code == 200
        assert full.content == (SAMPLES / "en_stereo_mulaw.wav").read_bytes()
        assert full.headers["accept-ranges"] == "bytes"
        part = c.get(f"/api/v1/calls/{call_id}/audio", headers={"Range": "bytes=1000-1099"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 1000-1099/{size}"
        assert part.content == full.content[1000:1100]
        tail = c.get(f"/api/v1/calls/{call_id}/audio", headers={"Range": "bytes=-10"})
        assert tail.status_code == 206 and tail.content == full.content[-10:]
        bad = c.get(f"/api/v1/calls/{call_id}/audio", headers={"Range": f"bytes={size + 5}-"})
        assert bad.status_code == 416


def test_exports(server, keys, calls):
    call_id = calls["zh_stereo"][0]
    with server.client(keys["qa_lead"]) as c:
        rttm = c.get(f"/api/v1/calls/{call_id}/export/rttm")
        assert rttm.status_code == 200
        lines = [ln.split() for ln in rttm.text.splitlines()]
        assert lines and all(ln[0] == "SPEAKER" for ln in lines)
        # the diarization's speaker labels, not roles (those stay in the JSON report)
        segments = c.get(f"/api/v1/calls/{call_id}/report").json()["segments"]
        assert {ln[7] for ln in lines} == {seg["speaker"] for seg in segments}
        assert len(lines) == len(segments)
        vtt = c.get(f"/api/v1/calls/{call_id}/export/vtt")
        assert vtt.text.startswith("WEBVTT") and "-->" in vtt.text
        body = c.get(f"/api/v1/calls/{call_id}/export/json").json()
        assert body == c.get(f"/api/v1/calls/{call_id}/report").json()
        table = c.get("/api/v1/export/scores.csv", params={"agent_id": "a1"})
        assert table.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(table.text)))
        assert sorted(r["call_id"] for r in rows) == ["call-en_mono", "call-en_stereo_mulaw"]
        summary = c.get(f"/api/v1/calls/{rows[0]['call_id']}").json()
        assert float(rows[0]["overall"]) == pytest.approx(summary["overall"])
        assert float(rows[0]["let_finish"]) == pytest.approx(summary["practices"]["let_finish"])
    with server.client(keys["a2"]) as c:
        rows = list(csv.DictReader(io.StringIO(c.get("/api/v1/export/scores.csv").text)))
        assert [r["call_id"] for r in rows] == ["call-zh_stereo"]


def test_agent_summary_and_rubric(server, keys, calls):
    with server.client(keys["a1"]) as c:
        summary = c.get("/api/v1/agents/a1/summary", params={"bucket": "day"}).json()
        assert summary["calls"] == 2
        assert [b["bucket"] for b in summary["series"]] == ["2026-11-02", "2026-11-03"]
        assert c.get("/api/v1/agents/a2/summary").status_code == 403
        rubric = c.get("/api/v1/rubric", params={"language": "zh"}).json()
        assert rubric["language"] == "zh" and "let_finish" in rubric["practices"]


def test_role_access_matrix(server, keys, calls):
    a1_call = calls["en_stereo_mulaw"][0]
    a2_call = calls["zh_stereo"][0]
    a1_job = calls["en_stereo_mulaw"][1]["job_id"]
    expected = {
        # path: statuses for admin, qa_lead, supervisor, a1, a2
        f"/api/v1/calls/{a1_call}": (200, 200, 200, 200, 403),
        f"/api/v1/calls/{a1_call}/report": (200, 200, 200, 200, 403),
        f"/api/v1/calls/{a2_call}/report": (200, 200, 200, 403, 200),
        f"/api/v1/calls/{a1_call}/audio": (200, 200, 200, 200, 403),
        f"/api/v1/calls/{a1_call}/export/vtt": (200, 200, 200, 200, 403),
        f"/api/v1/jobs/{a1_job}": (200, 200, 200, 200, 403),
        "/api/v1/calls?agent_id=a1": (200, 200, 200, 200, 403),
        "/api/v1/agents/a2/summary": (200, 200, 200, 403, 200),
        "/api/v1/audit": (200, 403, 403, 403, 403),
        "/api/v1/webhooks/deliveries": (200, 403, 403, 403, 403),
    }
    roles = ("admin", "qa_lead", "supervisor", "a1", "a2")
    for path, statuses in expected.items():
        for role, status in zip(roles, statuses, strict=True):
            with server.client(keys[role]) as c:
                r = c.get(path)
            assert r.status_code == status, (path, role, r.text)
            if status == 403:
                assert set(r.json()) == {"detail", "error_id"}
    with server.client(keys["a1"]) as c:
        listed = [i["call_id"] for i in c.get("/api/v1/calls").json()["items"]]
        assert sorted(listed) == ["call-en_mono", "call-en_stereo_mulaw"]
        assert (
            c.post(
                "/api/v1/calls", files={"file": ("x.wav", b"x")}, data={"agent_id": "a1"}
            ).status_code
            == 403
        )
        assert c.post(f"/api/v1/jobs/{a1_job}/retry").status_code == 403
        assert c.post("/api/v1/rescore", json={"rubric_yaml": "x"}).status_code == 403
    with server.client() as c:
        assert c.get("/api/v1/calls").status_code == 401
    with server.client("cl_nothing_like_a_key") as c:
        assert c.get("/api/v1/calls").status_code == 401
    # refusals are logged
    with server.client(keys["admin"]) as c:
        log = c.get("/api/v1/audit", params={"limit": 500}).json()
    refused = [
        e
        for e in log
        if e["outcome"] == "refused" and e["target"] == f"/api/v1/calls/{a1_call}/report"
    ]
    assert any(e["role"] == "agent" for e in refused)


def _files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def test_bad_uploads_are_refused_and_leave_nothing(server, keys, calls, tmp_path):
    truncated = (SAMPLES / "en_stereo_mulaw.wav").read_bytes()[:40_000]
    cases = [
        ("notes.txt", b"this is not audio at all\n" * 100, {}, 415, "not"),
        ("empty.wav", b"", {}, 415, "empty"),
        ("cut.wav", truncated, {}, 422, "truncated"),
        ("big.wav", b"RIFF" + b"\0" * (4 * 1024 * 1024), {}, 413, "limit"),
        (
            "ok.wav",
            (SAMPLES / "en_mono.wav").read_bytes(),
            {"diarization": "channels"},
            422,
            "two-channel",
        ),
        ("ok.wav", truncated, {"language": "fr"}, 422, "language"),
        ("ok.wav", truncated, {"agent_id": "../../etc"}, 422, "agent_id"),
        ("ok.wav", truncated, {"metadata": "[1, 2]"}, 422, "metadata"),
        ("ok.wav", truncated, {"started_at": "yesterday"}, 422, "started_at"),
    ]
    audio_dir = server.data_dir / "audio"
    before_files = _files_under(audio_dir)
    with server.client(keys["admin"]) as c:
        before = c.get("/api/v1/calls").json()["total"]
        for name, content, fields, status, words in cases:
            data = {"agent_id": "a1", **fields}
            r = c.post("/api/v1/calls", data=data, files={"file": (name, content)})
            assert r.status_code == status, (name, fields, r.text)
            body = r.json()
            assert set(body) == {"detail", "error_id"}
            assert words in body["detail"].lower(), body
        r = c.post("/api/v1/calls", data={"agent_id": "a1"})
        assert r.status_code == 422 and "file" in r.json()["detail"]
        dup = c.post(
            "/api/v1/calls",
            data={"agent_id": "a1", "call_id": calls["en_mono"][0]},
            files={"file": ("x.wav", (SAMPLES / "en_mono.wav").read_bytes())},
        )
        assert dup.status_code == 409
        assert c.get("/api/v1/calls").json()["total"] == before
    assert _files_under(audio_dir) == before_files


def test_unknown_ids_and_malformed_parameters(server, keys, calls):
    with server.client(keys["admin"]) as c:
        for path in (
            "/api/v1/calls/nope",
            "/api/v1/calls/nope/report",
            "/api/v1/calls/nope/audio",
            "/api/v1/calls/nope/export/json",
            "/api/v1/jobs/nope",
        ):
            r = c.get(path)
            assert r.status_code == 404, path
            assert set(r.json()) == {"detail", "error_id"}
        assert c.post("/api/v1/jobs/nope/retry").status_code == 404
        for params in (
            {"limit": 0},
            {"limit": "many"},
            {"offset": -1},
            {"since": "last week"},
            {"min_score": 101},
            {"language": "fr"},
            {"below": 50},
            {"critical": "maybe"},
        ):
            r = c.get("/api/v1/calls", params=params)
            assert r.status_code == 422, params
            assert r.json()["error_id"].startswith("err_")
        assert c.get(f"/api/v1/calls/{calls['zh_stereo'][0]}/export/pdf").status_code == 422
        r = c.post("/api/v1/rescore", json={"rubric_yaml": "id: [unclosed"})
        assert r.status_code == 422 and "rubric_yaml" in r.json()["detail"]
        job = calls["zh_stereo"][1]["job_id"]
        assert c.post(f"/api/v1/jobs/{job}/retry").status_code == 409


def test_rescore_with_another_rubric_version(server, keys, calls):
    from importlib import resources

    default = resources.files("calmline.monitor").joinpath("rubrics", "default_en.yaml")
    data = yaml.safe_load(default.read_text(encoding="utf-8"))
    data["version"] = "1.1.0"
    data["practices"]["let_finish"]["weight"] = 0.0
    call_id = calls["en_stereo_mulaw"][0]
    with server.client(keys["qa_lead"]) as c:
        before = c.get(f"/api/v1/calls/{call_id}").json()
        r = c.post(
            "/api/v1/rescore",
            json={"rubric_yaml": yaml.safe_dump(data, allow_unicode=True), "call_ids": [call_id]},
        )
        assert r.status_code == 202, r.text
        body = r.json()
        assert body["rubric_version"] == "1.1.0" and len(body["jobs"]) == 1
        job = server.wait_job(keys["qa_lead"], body["jobs"][0]["job_id"])
        assert job["state"] == "done" and job["kind"] == "rescore"
        after = c.get(f"/api/v1/calls/{call_id}").json()
        assert after["rubric_version"] == "1.1.0"
        assert after["practices"]["let_finish"] == before["practices"]["let_finish"]
        report = c.get(f"/api/v1/calls/{call_id}/report").json()
        assert report["scorecard"]["rubric_version"] == "1.1.0"
        assert report["scorecard"]["overall"] == after["overall"]
        # the transcript is untouched by re-scoring
        assert len(report["turns"]) > 0


def test_health_metrics_and_openapi(server, keys, calls):
    with server.client() as c:
        health = c.get("/healthz").json()
        assert health["status"] == "ok" and health["database"] == "sqlite"
        assert health["models_loaded"] is True
        assert health["jobs"]["done"] >= 3
        text = c.get("/metrics").text
        # every accepted upload so far is a listed call, whichever tests ran before this one
        admin = {"Authorization": f"Bearer {keys['admin']}"}
        uploaded = c.get("/api/v1/calls", headers=admin).json()["total"]
        assert f'calmline_uploads_total{{outcome="accepted"}} {float(uploaded)}' in text
        assert 'calmline_jobs{state="done"}' in text
        assert "calmline_job_seconds_bucket" in text
        spec = c.get("/openapi.json").json()
    assert "/api/v1/calls" in spec["paths"]
    upload = spec["paths"]["/api/v1/calls"]["post"]
    assert {"202", "413", "415", "422"} <= set(upload["responses"])
    assert "example" in spec["components"]["schemas"]["CallSummary"]


def test_job_progress_is_reported_while_running(server, keys, calls):
    with server.client(keys["admin"]) as c:
        r = server.upload(keys["admin"], SAMPLES / "en_stereo_mulaw.wav", "a3")
        job_id = r.json()["job_id"]
        seen = set()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            job = c.get(f"/api/v1/jobs/{job_id}").json()
            seen.add((job["state"], job["step"]))
            if job["state"] == "done":
                break
            time.sleep(0.1)
        running = [step for state, step in seen if state == "running" and step]
        assert "transcribe" in running
        from calmline.pipelines.batch import STEPS

        assert ("done", STEPS[-1]) in seen
