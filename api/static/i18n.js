// The pages' two languages: Chinese (zh-CN) and English. The interface language comes from the
// browser (navigator.languages) unless the user chose one with the switch in the header (kept in
// localStorage); <html lang> follows it. What belongs to a call (practice names, finding kinds,
// details, coaching) is shown in the call's language, whatever the interface language is.
//
// Static text in the HTML carries data-i18n="key" (text), data-i18n-placeholder, -title or
// -aria-label; scripts call t(key, params). Chinese strings use full-width punctuation.
// Importing this module also labels the cells of every table.list (data-label from its header),
// which the phone layout of calmline.css shows in front of each cell when tables become cards.

const STORE_KEY = "calmline.lang";
export const LANGS = ["zh", "en"];
const HTML_LANG = { zh: "zh-CN", en: "en" };

// prettier-ignore
const CATALOG = {
  en: {
    "lang.switch": "中文",
    "lang.switch.title": "切换到中文",
    "nav.dashboard": "Dashboard",
    "nav.review": "QA review",
    "nav.feedback": "My feedback",
    "nav.disputes": "Disputes",
    "who.signed_in": "Signed in: {label}",
    "who.agent": "agent {id}",
    "who.sign_out": "Sign out",
    "role.admin": "admin",
    "role.qa_lead": "qa lead",
    "role.supervisor": "supervisor",
    "role.agent": "agent",
    "refusal.home": "Go to your page",
    "refusal.not_allowed": "Not allowed",
    "refusal.refused": "The server refused this: {detail}.",
    "refusal.not_available": "Not available to your key",
    "refusal.page_closed": "{page} is not open to {role} keys.",
    "refusal.page_closed_agent": "{page} is not open to {role} keys; agents see their own calls on their feedback page.",
    "page.dashboard": "The supervisor dashboard",
    "page.review": "QA review",
    "page.feedback": "Agent feedback",
    "common.loading": "Loading…",
    "common.whole_call": "whole call",
    "common.critical": "critical",
    "common.needs_review": "needs review",
    "common.back_all_calls": "← All calls",
    "common.prev": "← Newer",
    "common.next": "Older →",
    "common.range": "{first}–{last} of {total} calls",
    "common.no_calls": "No calls yet.",
    "common.none": "–",
    "list.sep": ", ",
    "colon": ": ",
    "unit.s": "{v} s",
    // sign-in
    "signin.title": "Sign in · Calmline",
    "signin.heading": "Sign in",
    "signin.intro": "Enter your Calmline API key. The server checks it and signs this browser in with a session cookie; the key itself is not kept in the browser. Sign out when you are done (the session also ends by itself after some hours).",
    "signin.key": "API key",
    "signin.submit": "Sign in",
    "signin.no_key": "No key? An administrator creates one with",
    "signin.unknown_key": "This key is not known to the server.",
    "signin.failed": "Sign-in failed: {detail}",
    "signin.expired": "Your session has ended; sign in again.",
    // call page
    "call.title": "Call · Calmline",
    "call.page_title": "{id} · Calmline",
    "call.capped": "capped by {by} (uncapped {uncapped})",
    "call.export": "Export: ",
    "call.agent": "Agent",
    "call.started": "Started",
    "call.length": "Length",
    "call.language": "Language",
    "call.talk_ratio": "Talk ratio (agent)",
    "call.overlap": "Overlap",
    "call.non_talk": "No one talking",
    "call.rubric": "Rubric",
    "call.source": "Source",
    "call.warnings": "Warnings: {list}",
    "call.show_credits": " show credited moments (positive findings)",
    "call.scorecard": "Scorecard",
    "call.trend": "Customer trend",
    "call.transcript": "Transcript",
    "call.not_scored": "Call {id} is not scored yet ({state}).",
    "call.refreshes": " This page refreshes by itself.",
    "lang.en": "English",
    "lang.zh": "Chinese",
    "status.queued": "queued",
    "status.running": "running",
    "status.failed": "failed",
    "status.done": "done",
    // report view
    "report.audio_error": "The audio cannot be played here{why}.",
    "report.whole_call_title": "Measured over the whole call",
    "report.play_here": "Play from here",
    "report.no_scorecard": "This call has no scorecard.",
    "report.weight": "weight {w}",
    "report.not_applicable_title": "does not apply to this call",
    "report.not_applicable": "Not applicable: {reason}",
    "report.nothing_to_judge": "nothing on this call to judge it on",
    "report.review_agent": "A QA lead reviews this call before it is used for coaching: the recording does not show clearly who the agent is or that it is a service call. No coaching is given for it.",
    "report.review_qa": "Needs review: who the agent is, or whether this is a service call, is uncertain. Scored for QA; no coaching is given to the agent.",
    "report.no_trend": "No customer trend.",
    "report.evidence": "How it was measured",
    "report.customer": "Customer ",
    "report.agitation": " agitation {start} → {end}",
    "report.talking_over": "talking over for {s} s",
    "trend.escalated": "escalated",
    "trend.de-escalated": "de-escalated",
    "trend.steady": "steady",
    "trend.insufficient": "insufficient",
    "severity.critical": "critical",
    "severity.major": "major",
    "severity.minor": "minor",
    "severity.info": "info",
    "severity.positive": "positive",
    "role.customer": "Customer",
    "role.unknown": "Unknown",
    "role.agent_label": "Agent",
    // timeline
    "tl.label": "Call timeline",
    "tl.findings": "Findings",
    "tl.agent": "Agent",
    "tl.customer": "Customer",
    "tl.agitation": "Agitation",
    "tl.nontalk": "No one talking {from}–{to} ({s} s)",
    "tl.overlap": "Both talking {from}–{to} ({s} s)",
    "tl.agitation_at": "Customer agitation {v} at {t}",
    "tl.zoom_in": "Zoom in",
    "tl.zoom_out": "Zoom out",
    "tl.zoom": "Zoom {n}×",
    "legend.agent": "agent",
    "legend.customer": "customer",
    "legend.overlap": "overlap",
    "legend.nontalk": "no one talking",
    "legend.agitation": "customer agitation (0–1)",
    "legend.finding": "finding (colour = severity)",
    // feedback
    "fb.title": "Feedback · Calmline",
    "fb.heading": "My feedback",
    "fb.agent": "Agent",
    "fb.show": "Show",
    "fb.col.call": "Call",
    "fb.col.date": "Date",
    "fb.col.length": "Length",
    "fb.col.score": "Score",
    "fb.col.critical": "Critical",
    "fb.col.work_on": "To work on",
    "fb.col.customer": "Customer",
    "fb.no_coaching": "no coaching (review)",
    "fb.scored_calls": "Scored calls",
    "fb.mean_score": "Mean score",
    "fb.critical_calls": "Calls with a critical finding",
    "fb.for_agent": "Feedback for agent {id}",
    "fb.agent_feedback": "Agent feedback",
    "fb.choose": "Choose an agent to see the feedback they get.",
    // feedback call
    "fbc.title": "Call feedback · Calmline",
    "fbc.page_title": "Feedback {id} · Calmline",
    "fbc.back": "← My calls",
    "fbc.back_of": "← Calls of {id}",
    "fbc.date": "Date",
    "fbc.length": "Length",
    "fbc.coaching_points": "Coaching points",
    "fbc.click_quote": "Click a quote to hear that moment.",
    "fbc.practices": "Practices (lowest score first)",
    "fbc.customer": "Customer",
    "fbc.transcript": "Transcript",
    "fbc.not_ready": "Feedback for this call is not ready yet ({state}).",
    // evaluations
    "ev.reason.asr_error": "ASR error (misheard)",
    "ev.reason.wrong_speaker": "wrong speaker",
    "ev.reason.not_applicable": "not applicable here",
    "ev.reason.wrong_rule": "wrong rule",
    "ev.reason.other": "other (say what)",
    "ev.not_evaluated": "Not evaluated yet.",
    "ev.published": "published {when}",
    "ev.draft": "draft saved {when}",
    "ev.status.published": "published",
    "ev.status.draft": "draft",
    "ev.status_line": " Version {version} of {versions}, {when} by {who}",
    "ev.acknowledged": " · acknowledged by the agent {when}",
    "ev.overall": "Overall: machine ",
    "ev.overall_qa": " · QA ",
    "ev.added": "added",
    "ev.heading": "QA evaluation",
    "ev.scores": "Practice scores",
    "ev.col.practice": "Practice",
    "ev.col.machine": "Machine",
    "ev.col.qa": "QA score",
    "ev.col.reason": "Reason",
    "ev.qa_score_of": "QA score of {name}",
    "ev.reason_for": "Reason for {name}",
    "ev.reason": "reason",
    "ev.findings": "Findings",
    "ev.none_found": "The machine found nothing.",
    "ev.missed": "Missed by the machine",
    "ev.verdict": "Verdict",
    "ev.confirm": "confirm",
    "ev.reject": "reject",
    "ev.reason_label": "Reason",
    "ev.note": "note",
    "ev.note_label": "Note",
    "ev.remove": "remove",
    "ev.practice": "Practice",
    "ev.kind_ph": "kind, e.g. ack_phrase",
    "ev.kind": "Kind",
    "ev.time_ph": "m:ss",
    "ev.time": "Time",
    "ev.quote_ph": "what was said",
    "ev.quote": "Quote",
    "ev.now": "now",
    "ev.add": "Add",
    "ev.missed_needs": "A missed finding needs a kind (letters and _) and a time (m:ss).",
    "ev.note_for_agent": "A note for the agent",
    "ev.note_aria": "Evaluation note",
    "ev.publishing": "Publishing…",
    "ev.saving": "Saving…",
    "ev.save": "Save draft",
    "ev.publish": "Publish to the agent",
    "ev.queue": "Dispute queue",
    "ev.disputed": "disputed",
    "ev.dispute": "Dispute",
    "ev.dispute_ph": "why this is wrong",
    "ev.dispute_aria": "Dispute comment",
    "ev.send": "Send",
    "ev.removed_by_qa": " — removed by QA: {reason}",
    "ev.confirmed_by_qa": " — confirmed by QA",
    "ev.added_by_qa": " — added by QA",
    "ev.acknowledge": "Acknowledge",
    "ev.changed": "{name}: machine ",
    "ev.to_qa": " → QA ",
    "dispute.open": "open",
    "dispute.upheld": "upheld",
    "dispute.overturned": "overturned",
    // disputes page
    "dp.title": "Disputes · Calmline",
    "dp.heading": "Disputes",
    "dp.intro": "Agents' disputes of published evaluations. Upheld: the item stands. Overturned: a new published version rejects the disputed finding (or drops the added one).",
    "dp.show": "Show",
    "dp.all": "all",
    "dp.added_by_qa": "added by QA",
    "dp.rejected_by_qa": "rejected by QA ({reason})",
    "dp.confirmed_by_qa": "confirmed by QA",
    "dp.not_judged": "machine finding, not judged",
    "dp.item_version": "{item}, version {version}: {verdict}",
    "dp.note_ph": "note (required)",
    "dp.note_aria": "Resolution note",
    "dp.write_note": "Write a note first.",
    "dp.uphold": "Uphold",
    "dp.overturn": "Overturn",
    "dp.none": "No disputes here.",
    "dp.col.call": "Call",
    "dp.col.agent": "Agent",
    "dp.col.item": "Item",
    "dp.col.comment": "Agent's comment",
    "dp.col.opened": "Opened",
    "dp.col.decision": "Decision",
    // review list and dashboard (static HTML; their scripts use the keys below)
    "rv.title": "QA review · Calmline",
    "rv.heading": "QA review",
    "rv.disputes": "Agents' disputes",
    "rv.no_match": "No calls match these filters.",
    "rv.scored": "scored",
    "rv.incomplete": "incomplete",
    "db.title": "Live calls · Calmline",
    "db.heading": "Live calls",
    "db.none": "No calls in progress.",
    "db.alert.interruption": "Interruption",
    "db.alert.apology_demand": "Apology demanded",
    "db.alert.repeated_ack": "Repeated acknowledgement",
    "db.alert.agent_louder": "Agent louder",
    "db.alert.agent_faster": "Agent faster",
    "db.alert.agitation_rising": "Customer agitation rising",
    "db.alert.non_talk": "No one talking",
    "db.alert.acknowledgement": "Acknowledged",
    "db.say.interruption": "Agent started talking over the customer ({s} s of overlap){quote}",
    "db.say.apology_demand": "Agent asked the customer to apologise{quote}",
    "db.say.repeated_ack": "Agent repeated an acknowledgement{quote}",
    "db.say.agent_louder": "Agent {db} dB louder than usual{quote}",
    "db.say.agent_faster": "Agent speaking {ratio}× faster than usual{quote}",
    "db.say.agitation_rising": "Customer agitation {v} (alert at {threshold}){words}",
    "db.say.non_talk": "No one talking for {s} s",
    "db.say.acknowledgement": "Agent acknowledged{quote}",
    "db.follow_this": "Follow this call",
    "db.following": "Following {id}",
    "db.close": "Close",
    "db.transcript": "Transcript",
    "db.events": "Alerts and credits",
    "db.agent_talk": "Agent talk",
    "db.overlap": "Overlap",
    "db.agitation": "Customer agitation",
    "db.open_scored": "Open the scored call",
    "db.acknowledge": "Acknowledge",
    "db.connecting": "connecting…",
    "db.live": "live",
    "db.disconnected": "disconnected",
    // calibration, trends, review filters
    "cal.title": "Calibration · Calmline",
    "cal.back": "← Calibrations",
    "cal.heading": "Calibration",
    "cal.heading_id": "Calibration #{id}",
    "cal.call": "Call",
    "cal.call_id": "Call id",
    "cal.note": "Note",
    "cal.note_optional": "note (optional)",
    "cal.note_ph": "note",
    "cal.your_note": "Your note",
    "cal.evaluators_legend": "Evaluators (two or more)",
    "cal.start": "Start calibration",
    "cal.start_heading": "Start a calibration",
    "cal.none": "None.",
    "cal.started": "Started",
    "cal.evaluators": "Evaluators",
    "cal.status": "Status",
    "cal.state.open": "open",
    "cal.state.closed": "closed",
    "cal.due": "your answer is due",
    "cal.open": "Open",
    "cal.closed": "Closed",
    "cal.practice": "Practice",
    "cal.overall": "Overall",
    "cal.within": "within {points}",
    "cal.ev_diff": "Evaluators: mean diff.",
    "cal.machine_diff": "Vs machine: mean diff.",
    "cal.findings": "Findings",
    "cal.verdicts_agree": "Verdicts agree",
    "cal.kappa": "Kappa",
    "cal.machine_confirmed": "Machine confirmed",
    "cal.agreement_over": "Agreement over {n} closed calibration(s)",
    "cal.no_closed": "No closed calibration with two answers yet.",
    "cal.evaluator": "Evaluator",
    "cal.calibrations": "Calibrations",
    "cal.diff_others": "Mean diff. from the others",
    "cal.vs_machine": "vs machine",
    "cal.machines": "machine's",
    "cal.score_of": "Your score of {name}",
    "cal.reason_ph": "reason",
    "cal.reason_for": "Reason for {name}",
    "cal.reason": "Reason",
    "cal.verdict": "Verdict",
    "cal.stands": "stands",
    "cal.confirm": "confirm",
    "cal.reject": "reject",
    "cal.reject_reason": "reject ({reason})",
    "cal.submitting": "Submitting…",
    "cal.saving": "Saving…",
    "cal.your_answer": "Your answer",
    "cal.answer_intro": "Score the call on your own: the others' answers are shown when the calibration is closed. A practice you leave empty keeps the machine's score; a finding you leave as it stands counts as confirmed.",
    "cal.machine": "Machine",
    "cal.your_score": "Your score",
    "cal.machine_findings": "The machine's findings",
    "cal.machine_nothing": "The machine found nothing.",
    "cal.save_draft": "Save draft",
    "cal.submit": "Submit (final)",
    "cal.finding": "Finding",
    "cal.close": "Close and show the answers",
    "cal.not_submitted": "Not submitted yet: {names}. Close anyway?",
    "cal.answers": "Answers and agreement",
    "cal.you_submitted": "Your answer is submitted. The answers are shown when the calibration is closed.",
    "cal.not_evaluator": "You are not an evaluator of this calibration; the answers are shown when it is closed.",
    "cal.machine_overall": "Machine overall",
    "cal.submitted": "submitted",
    "cal.waiting": "waiting",
    "trends.title": "Trends · Calmline",
    "trends.heading": "Trends",
    "trends.heading_scope": "Trends: {scope}",
    "trends.scope_agent": "agent {id}",
    "trends.scope_team": "team {team}",
    "trends.scope_all": "every agent",
    "trends.agent": "Agent",
    "trends.any_agent": "any agent",
    "trends.team": "Team",
    "trends.weeks": "Weeks",
    "trends.show": "Show",
    "trends.scores": "Scores by week",
    "trends.rates": "Customer de-escalation by week",
    "trends.recurring": "Recurring findings",
    "trends.compare": "Agents compared",
    "trends.teams": "Teams",
    "trends.no_team_ph": "empty: no team",
    "trends.put_in_team": "Put in team",
    "trends.scored_calls": "Scored calls",
    "trends.mean_score": "Mean score",
    "trends.calmer_end": "Customers calmer at the end",
    "trends.no_faults": "No faults found in these calls.",
    "trends.practice": "Practice",
    "trends.finding": "Finding",
    "trends.calls": "Calls",
    "trends.share": "Share of calls",
    "trends.findings": "Findings",
    "trends.no_agents": "No agents with scored calls.",
    "trends.by_week": "By week",
    "trends.calmer": "Customers calmer",
    "trends.most": "Comes up most",
    "trends.saved": "saved",
    "trends.no_team": "no team",
    "trends.no_calls_weeks": "No scored calls in these weeks.",
    "chart.overall": "Overall",
    "chart.week": "W{n}",
    "chart.point": "{name} {week}: {v}",
    "chart.hint": "Click a name to show or hide its line.",
    "chart.rate_title": "Customers calmer at the end (share of measured calls)",
    "chart.bar": "{week}: {pct}% of {n} call(s)",
    "fb.trend.heading": "My trend by week",
    "fb.trend.none": "No scored calls in the last weeks.",
    "fb.trend.summary": "{n} scored call(s) since {since}; customers calmer at the end in {pct} of measured calls.",
    "fb.trend.chart": "My overall score by week",
    "fb.trend.most": "Comes up most: ",
    "fb.trend.item": "{practice} · {kind} ({n} call(s))",
    "rv.search_note": "A word of one or two characters (e.g. 卡, 银行) is found by reading every transcript: slower on a large store.",
    "rv.calibration": "Calibration",
    "rv.trends": "Trends",
    "rv.f.search": "Search transcripts",
    "rv.f.search_ph": "words said in the call, 中文 or English",
    "rv.f.agent": "Agent",
    "rv.f.any_agent": "any agent",
    "rv.f.since": "From (UTC)",
    "rv.f.until": "To (UTC, inclusive)",
    "rv.f.language": "Language",
    "rv.f.any": "any",
    "rv.f.english": "English",
    "rv.f.chinese": "Chinese",
    "rv.f.min_score": "Score from",
    "rv.f.max_score": "Score to",
    "rv.f.practice": "Practice",
    "rv.f.below": "Practice below",
    "rv.f.below_ph": "e.g. 60",
    "rv.f.critical": "Critical",
    "rv.f.critical_only": "critical only",
    "rv.f.no_critical": "no critical",
    "rv.f.review": "Review",
    "rv.f.needs_review": "needs review",
    "rv.f.roles_certain": "roles certain",
    "rv.f.finding": "Finding",
    "rv.f.evaluated": "Evaluated",
    "rv.f.evaluated_yes": "evaluated",
    "rv.f.evaluated_no": "not evaluated",
    "rv.f.disputed": "Disputed",
    "rv.f.disputed_yes": "disputed",
    "rv.f.disputed_no": "not disputed",
    "rv.f.per_page": "Per page",
    "rv.f.apply": "Apply",
    "rv.f.clear": "Clear",
    "rv.col.call": "Call",
    "rv.col.agent": "Agent",
    "rv.col.started": "Started",
    "rv.col.length": "Length",
    "rv.col.lang": "Lang.",
    "rv.col.status": "Status",
    "rv.col.overall": "Overall",
    "rv.col.critical": "Critical",
    "rv.col.customer": "Customer",
    "rv.col.weakest": "Weakest practice",
    "rv.csv": "Export scores (CSV)",
    "db.acked": "✓ acknowledged by {who} at {time}",
    "db.ended": "ended",
    "db.period": ".",
    "db.report": "report",
    "db.its_report": "its report",
    "db.not_live": "Call {id} is not live; see ",
    "db.agitation_title": "agitation {v} (0–1)",
    "db.alert_at": " {call} at {time}",
    "db.withdrawn": "withdrawn: {reason}",
    "db.withdrawn.no_words": "no word was recognised in the agent's speech",
    "db.withdrawn.backchannel": "the agent's words are a backchannel",
    "db.withdrawn.closing": "an overlap in a closing exchange (thanks and goodbyes)",
    "db.withdrawn.louder_calm": "with the customer's words in, their agitation was {agitation} (agitated at {threshold})",
    "db.withdrawn.louder_turn": "the whole turn was {loudness_rel_db} dB against the agent's usual level (limit +{limit_db} dB)",
    "db.withdrawn.louder_rule": "the rule with the turn's words did not hold",
  },
  zh: {
    "lang.switch": "English",
    "lang.switch.title": "Switch to English",
    "nav.dashboard": "实时监控",
    "nav.review": "质检",
    "nav.feedback": "我的反馈",
    "nav.disputes": "申诉",
    "who.signed_in": "已登录：{label}",
    "who.agent": "坐席 {id}",
    "who.sign_out": "退出",
    "role.admin": "管理员",
    "role.qa_lead": "质检主管",
    "role.supervisor": "班组长",
    "role.agent": "坐席",
    "refusal.home": "回到我的页面",
    "refusal.not_allowed": "无权访问",
    "refusal.refused": "服务器拒绝了请求：{detail}。",
    "refusal.not_available": "您的密钥无法使用此页面",
    "refusal.page_closed": "{page}不对{role}密钥开放。",
    "refusal.page_closed_agent": "{page}不对{role}密钥开放；坐席请在“我的反馈”页面查看自己的通话。",
    "page.dashboard": "班组长实时监控",
    "page.review": "质检页面",
    "page.feedback": "坐席反馈",
    "common.loading": "加载中……",
    "common.whole_call": "整通电话",
    "common.critical": "严重",
    "common.needs_review": "待复核",
    "common.back_all_calls": "← 全部通话",
    "common.prev": "← 较新",
    "common.next": "较早 →",
    "common.range": "第 {first}–{last} 通，共 {total} 通",
    "common.no_calls": "还没有通话。",
    "common.none": "–",
    "list.sep": "、",
    "colon": "：",
    "unit.s": "{v} 秒",
    "signin.title": "登录 · Calmline",
    "signin.heading": "登录",
    "signin.intro": "请输入您的 Calmline API 密钥。服务器验证后用会话 Cookie 让本浏览器登录；密钥本身不会保存在浏览器中。用完请退出（会话也会在几小时后自动结束）。",
    "signin.key": "API 密钥",
    "signin.submit": "登录",
    "signin.no_key": "没有密钥？请管理员用以下命令创建：",
    "signin.unknown_key": "服务器不认识这个密钥。",
    "signin.failed": "登录失败：{detail}",
    "signin.expired": "会话已结束，请重新登录。",
    "call.title": "通话 · Calmline",
    "call.page_title": "{id} · Calmline",
    "call.capped": "因 {by} 封顶（未封顶 {uncapped} 分）",
    "call.export": "导出：",
    "call.agent": "坐席",
    "call.started": "开始时间",
    "call.length": "时长",
    "call.language": "语言",
    "call.talk_ratio": "坐席说话占比",
    "call.overlap": "抢话重叠",
    "call.non_talk": "无人说话",
    "call.rubric": "评分标准",
    "call.source": "来源",
    "call.warnings": "警告：{list}",
    "call.show_credits": " 显示加分时刻（正面发现）",
    "call.scorecard": "评分卡",
    "call.trend": "客户情绪走向",
    "call.transcript": "通话文本",
    "call.not_scored": "通话 {id} 尚未评分（{state}）。",
    "call.refreshes": "本页面会自动刷新。",
    "lang.en": "英语",
    "lang.zh": "中文",
    "status.queued": "排队中",
    "status.running": "分析中",
    "status.failed": "失败",
    "status.done": "完成",
    "report.audio_error": "这里无法播放录音{why}。",
    "report.whole_call_title": "按整通电话计算",
    "report.play_here": "从这里播放",
    "report.no_scorecard": "这通电话没有评分卡。",
    "report.weight": "权重 {w}",
    "report.not_applicable_title": "不适用于这通电话",
    "report.not_applicable": "不适用：{reason}",
    "report.nothing_to_judge": "这通电话里没有可以评判的内容",
    "report.review_agent": "这通电话在用于辅导之前需要质检主管复核：录音无法清楚地显示谁是坐席，或者这是否是一通服务电话。这通电话不提供辅导建议。",
    "report.review_qa": "待复核：谁是坐席，或者这是否是一通服务电话，尚不确定。已为质检评分；不向坐席提供辅导建议。",
    "report.no_trend": "没有客户情绪走向。",
    "report.evidence": "计算依据",
    "report.customer": "客户情绪",
    "report.agitation": "，激动程度 {start} → {end}",
    "report.talking_over": "重叠说话 {s} 秒",
    "trend.escalated": "升级",
    "trend.de-escalated": "缓和",
    "trend.steady": "平稳",
    "trend.insufficient": "数据不足",
    "severity.critical": "严重",
    "severity.major": "重要",
    "severity.minor": "轻微",
    "severity.info": "提示",
    "severity.positive": "加分",
    "role.customer": "客户",
    "role.unknown": "未知",
    "role.agent_label": "坐席",
    "tl.label": "通话时间轴",
    "tl.findings": "发现",
    "tl.agent": "坐席",
    "tl.customer": "客户",
    "tl.agitation": "情绪",
    "tl.nontalk": "无人说话 {from}–{to}（{s} 秒）",
    "tl.overlap": "双方同时说话 {from}–{to}（{s} 秒）",
    "tl.agitation_at": "{t} 客户激动程度 {v}",
    "tl.zoom_in": "放大",
    "tl.zoom_out": "缩小",
    "tl.zoom": "缩放 {n}×",
    "legend.agent": "坐席",
    "legend.customer": "客户",
    "legend.overlap": "重叠",
    "legend.nontalk": "无人说话",
    "legend.agitation": "客户激动程度（0–1）",
    "legend.finding": "发现（颜色 = 严重程度）",
    "fb.title": "反馈 · Calmline",
    "fb.heading": "我的反馈",
    "fb.agent": "坐席",
    "fb.show": "查看",
    "fb.col.call": "通话",
    "fb.col.date": "日期",
    "fb.col.length": "时长",
    "fb.col.score": "得分",
    "fb.col.critical": "严重问题",
    "fb.col.work_on": "需要改进",
    "fb.col.customer": "客户",
    "fb.no_coaching": "不提供辅导（待复核）",
    "fb.scored_calls": "已评分通话",
    "fb.mean_score": "平均分",
    "fb.critical_calls": "有严重问题的通话",
    "fb.for_agent": "坐席 {id} 的反馈",
    "fb.agent_feedback": "坐席反馈",
    "fb.choose": "请选择一位坐席，查看他收到的反馈。",
    "fbc.title": "通话反馈 · Calmline",
    "fbc.page_title": "反馈 {id} · Calmline",
    "fbc.back": "← 我的通话",
    "fbc.back_of": "← {id} 的通话",
    "fbc.date": "日期",
    "fbc.length": "时长",
    "fbc.coaching_points": "辅导要点",
    "fbc.click_quote": "点击引用的话，即可收听那一刻的录音。",
    "fbc.practices": "各项规范（得分从低到高）",
    "fbc.customer": "客户",
    "fbc.transcript": "通话文本",
    "fbc.not_ready": "这通电话的反馈还没有准备好（{state}）。",
    "ev.reason.asr_error": "语音识别错误（听错）",
    "ev.reason.wrong_speaker": "说话人不对",
    "ev.reason.not_applicable": "此处不适用",
    "ev.reason.wrong_rule": "规则不对",
    "ev.reason.other": "其他（请说明）",
    "ev.not_evaluated": "尚未质检评估。",
    "ev.published": "于 {when} 发布",
    "ev.draft": "草稿保存于 {when}",
    "ev.status.published": "已发布",
    "ev.status.draft": "草稿",
    "ev.status_line": " 第 {version} 版（共 {versions} 版），{when}，评估人：{who}",
    "ev.acknowledged": " · 坐席已于 {when} 确认",
    "ev.overall": "总分：系统 ",
    "ev.overall_qa": " · 质检 ",
    "ev.added": "补充",
    "ev.heading": "质检评估",
    "ev.scores": "各项规范得分",
    "ev.col.practice": "规范",
    "ev.col.machine": "系统",
    "ev.col.qa": "质检得分",
    "ev.col.reason": "理由",
    "ev.qa_score_of": "{name}的质检得分",
    "ev.reason_for": "{name}的理由",
    "ev.reason": "理由",
    "ev.findings": "发现",
    "ev.none_found": "系统没有发现任何问题。",
    "ev.missed": "系统漏掉的",
    "ev.verdict": "判定",
    "ev.confirm": "确认",
    "ev.reject": "驳回",
    "ev.reason_label": "理由",
    "ev.note": "备注",
    "ev.note_label": "备注",
    "ev.remove": "删除",
    "ev.practice": "规范",
    "ev.kind_ph": "类型，例如 ack_phrase",
    "ev.kind": "类型",
    "ev.time_ph": "m:ss",
    "ev.time": "时间",
    "ev.quote_ph": "说了什么",
    "ev.quote": "原话",
    "ev.now": "当前",
    "ev.add": "添加",
    "ev.missed_needs": "补充的发现需要类型（小写字母和 _）和时间（m:ss）。",
    "ev.note_for_agent": "给坐席的备注",
    "ev.note_aria": "评估备注",
    "ev.publishing": "发布中……",
    "ev.saving": "保存中……",
    "ev.save": "保存草稿",
    "ev.publish": "发布给坐席",
    "ev.queue": "申诉队列",
    "ev.disputed": "已申诉",
    "ev.dispute": "申诉",
    "ev.dispute_ph": "为什么这不对",
    "ev.dispute_aria": "申诉说明",
    "ev.send": "提交",
    "ev.removed_by_qa": " — 质检已删除：{reason}",
    "ev.confirmed_by_qa": " — 质检已确认",
    "ev.added_by_qa": " — 质检补充",
    "ev.acknowledge": "确认已读",
    "ev.changed": "{name}：系统 ",
    "ev.to_qa": " → 质检 ",
    "dispute.open": "待处理",
    "dispute.upheld": "维持",
    "dispute.overturned": "改判",
    "dp.title": "申诉 · Calmline",
    "dp.heading": "申诉",
    "dp.intro": "坐席对已发布评估的申诉。维持：该项不变。改判：发布新版本，驳回被申诉的发现（或删除补充的发现）。",
    "dp.show": "显示",
    "dp.all": "全部",
    "dp.added_by_qa": "质检补充",
    "dp.rejected_by_qa": "质检已驳回（{reason}）",
    "dp.confirmed_by_qa": "质检已确认",
    "dp.not_judged": "系统发现，未判定",
    "dp.item_version": "{item}，第 {version} 版：{verdict}",
    "dp.note_ph": "备注（必填）",
    "dp.note_aria": "处理备注",
    "dp.write_note": "请先写备注。",
    "dp.uphold": "维持",
    "dp.overturn": "改判",
    "dp.none": "这里没有申诉。",
    "dp.col.call": "通话",
    "dp.col.agent": "坐席",
    "dp.col.item": "项目",
    "dp.col.comment": "坐席说明",
    "dp.col.opened": "提出时间",
    "dp.col.decision": "处理结果",
    "rv.title": "质检 · Calmline",
    "rv.heading": "质检",
    "rv.disputes": "坐席申诉",
    "rv.no_match": "没有符合筛选条件的通话。",
    "rv.scored": "已评分",
    "rv.incomplete": "不完整",
    "db.title": "实时通话 · Calmline",
    "db.heading": "实时通话",
    "db.none": "目前没有进行中的通话。",
    "db.alert.interruption": "插话",
    "db.alert.apology_demand": "要求客户道歉",
    "db.alert.repeated_ack": "重复应答",
    "db.alert.agent_louder": "坐席音量升高",
    "db.alert.agent_faster": "坐席语速加快",
    "db.alert.agitation_rising": "客户情绪升级",
    "db.alert.non_talk": "无人说话",
    "db.alert.acknowledgement": "表示理解",
    "db.say.interruption": "坐席在客户说话时插话（重叠 {s} 秒）{quote}",
    "db.say.apology_demand": "坐席要求客户道歉{quote}",
    "db.say.repeated_ack": "坐席重复应答{quote}",
    "db.say.agent_louder": "坐席音量比平时高 {db} dB{quote}",
    "db.say.agent_faster": "坐席语速是平时的 {ratio} 倍{quote}",
    "db.say.agitation_rising": "客户激动程度 {v}（提醒阈值 {threshold}）{words}",
    "db.say.non_talk": "无人说话 {s} 秒",
    "db.say.acknowledgement": "坐席表示理解{quote}",
    "db.follow_this": "跟踪这通电话",
    "db.following": "正在跟踪 {id}",
    "db.close": "关闭",
    "db.transcript": "通话文本",
    "db.events": "提醒和加分",
    "db.agent_talk": "坐席说话",
    "db.overlap": "抢话重叠",
    "db.agitation": "客户激动程度",
    "db.open_scored": "打开评分结果",
    "db.acknowledge": "确认",
    "db.connecting": "连接中……",
    "db.live": "实时",
    "db.disconnected": "已断开",
    // calibration, trends, review filters
    "cal.title": "校准 · Calmline",
    "cal.back": "← 校准列表",
    "cal.heading": "校准",
    "cal.heading_id": "校准 #{id}",
    "cal.call": "通话",
    "cal.call_id": "通话编号",
    "cal.note": "备注",
    "cal.note_optional": "备注（选填）",
    "cal.note_ph": "备注",
    "cal.your_note": "你的备注",
    "cal.evaluators_legend": "评估人（至少两人）",
    "cal.start": "开始校准",
    "cal.start_heading": "发起校准",
    "cal.none": "无。",
    "cal.started": "开始时间",
    "cal.evaluators": "评估人",
    "cal.status": "状态",
    "cal.state.open": "进行中",
    "cal.state.closed": "已结束",
    "cal.due": "待你作答",
    "cal.open": "进行中",
    "cal.closed": "已结束",
    "cal.practice": "规范",
    "cal.overall": "总分",
    "cal.within": "相差 {points} 分以内",
    "cal.ev_diff": "评估人之间平均差",
    "cal.machine_diff": "与机器平均差",
    "cal.findings": "发现数",
    "cal.verdicts_agree": "判定一致",
    "cal.kappa": "Kappa 系数",
    "cal.machine_confirmed": "机器发现被确认",
    "cal.agreement_over": "{n} 次已结束校准的一致性",
    "cal.no_closed": "还没有至少两份答案的已结束校准。",
    "cal.evaluator": "评估人",
    "cal.calibrations": "校准次数",
    "cal.diff_others": "与其他人的平均差",
    "cal.vs_machine": "与机器",
    "cal.machines": "机器评分",
    "cal.score_of": "你对“{name}”的评分",
    "cal.reason_ph": "理由",
    "cal.reason_for": "“{name}”的理由",
    "cal.reason": "理由",
    "cal.verdict": "判定",
    "cal.stands": "维持",
    "cal.confirm": "确认",
    "cal.reject": "驳回",
    "cal.reject_reason": "驳回（{reason}）",
    "cal.submitting": "提交中……",
    "cal.saving": "保存中……",
    "cal.your_answer": "你的答案",
    "cal.answer_intro": "请独立为这通电话评分：校准结束后才会显示其他人的答案。留空的规范沿用机器的评分；维持原样的发现算作确认。",
    "cal.machine": "机器",
    "cal.your_score": "你的评分",
    "cal.machine_findings": "机器的发现",
    "cal.machine_nothing": "机器没有发现问题。",
    "cal.save_draft": "保存草稿",
    "cal.submit": "提交（定稿）",
    "cal.finding": "发现",
    "cal.close": "结束并显示答案",
    "cal.not_submitted": "尚未提交：{names}。仍要结束吗？",
    "cal.answers": "答案与一致性",
    "cal.you_submitted": "你的答案已提交。校准结束后显示所有答案。",
    "cal.not_evaluator": "你不是这次校准的评估人；校准结束后显示答案。",
    "cal.machine_overall": "机器总分",
    "cal.submitted": "已提交",
    "cal.waiting": "等待中",
    "trends.title": "趋势 · Calmline",
    "trends.heading": "趋势",
    "trends.heading_scope": "趋势：{scope}",
    "trends.scope_agent": "坐席 {id}",
    "trends.scope_team": "团队 {team}",
    "trends.scope_all": "全部坐席",
    "trends.agent": "坐席",
    "trends.any_agent": "任意坐席",
    "trends.team": "团队",
    "trends.weeks": "周数",
    "trends.show": "显示",
    "trends.scores": "每周得分",
    "trends.rates": "每周客户情绪缓和",
    "trends.recurring": "反复出现的发现",
    "trends.compare": "坐席对比",
    "trends.teams": "团队",
    "trends.no_team_ph": "留空即不属于任何团队",
    "trends.put_in_team": "加入团队",
    "trends.scored_calls": "已评分通话",
    "trends.mean_score": "平均分",
    "trends.calmer_end": "结束时客户更平静",
    "trends.no_faults": "这些通话里没有发现问题。",
    "trends.practice": "规范",
    "trends.finding": "发现",
    "trends.calls": "通话数",
    "trends.share": "通话占比",
    "trends.findings": "发现数",
    "trends.no_agents": "没有已评分通话的坐席。",
    "trends.by_week": "每周",
    "trends.calmer": "客户更平静",
    "trends.most": "最常出现",
    "trends.saved": "已保存",
    "trends.no_team": "无团队",
    "trends.no_calls_weeks": "这几周没有已评分的通话。",
    "chart.overall": "总分",
    "chart.week": "第{n}周",
    "chart.point": "{name} {week}：{v}",
    "chart.hint": "点击名称可显示或隐藏对应的线。",
    "chart.rate_title": "结束时客户更平静（占已测通话的比例）",
    "chart.bar": "{week}：{n} 通通话中占 {pct}%",
    "fb.trend.heading": "我的每周趋势",
    "fb.trend.none": "最近几周没有已评分的通话。",
    "fb.trend.summary": "自 {since} 起共 {n} 通已评分通话；已测通话中 {pct} 的客户在结束时更平静。",
    "fb.trend.chart": "我每周的总分",
    "fb.trend.most": "最常出现：",
    "fb.trend.item": "{practice} · {kind}（{n} 通）",
    "rv.search_note": "一两个字的词（如“卡”“银行”）要读遍每份通话文本才能找到：通话多时较慢。",
    "rv.calibration": "校准",
    "rv.trends": "趋势",
    "rv.f.search": "搜索通话文本",
    "rv.f.search_ph": "通话里说过的话，中文或英文",
    "rv.f.agent": "坐席",
    "rv.f.any_agent": "任意坐席",
    "rv.f.since": "起始日期（UTC）",
    "rv.f.until": "截止日期（UTC，含当天）",
    "rv.f.language": "语言",
    "rv.f.any": "任意",
    "rv.f.english": "英语",
    "rv.f.chinese": "中文",
    "rv.f.min_score": "最低分",
    "rv.f.max_score": "最高分",
    "rv.f.practice": "规范",
    "rv.f.below": "规范得分低于",
    "rv.f.below_ph": "例如 60",
    "rv.f.critical": "严重问题",
    "rv.f.critical_only": "仅严重",
    "rv.f.no_critical": "无严重问题",
    "rv.f.review": "复核",
    "rv.f.needs_review": "待复核",
    "rv.f.roles_certain": "角色确定",
    "rv.f.finding": "发现",
    "rv.f.evaluated": "已评估",
    "rv.f.evaluated_yes": "已评估",
    "rv.f.evaluated_no": "未评估",
    "rv.f.disputed": "申诉",
    "rv.f.disputed_yes": "已申诉",
    "rv.f.disputed_no": "未申诉",
    "rv.f.per_page": "每页",
    "rv.f.apply": "应用",
    "rv.f.clear": "清除",
    "rv.col.call": "通话",
    "rv.col.agent": "坐席",
    "rv.col.started": "开始时间",
    "rv.col.length": "时长",
    "rv.col.lang": "语言",
    "rv.col.status": "状态",
    "rv.col.overall": "总分",
    "rv.col.critical": "严重问题",
    "rv.col.customer": "客户",
    "rv.col.weakest": "最弱规范",
    "rv.csv": "导出得分（CSV）",
    "db.acked": "✓ {who} 于 {time} 确认",
    "db.ended": "已结束",
    "db.period": "。",
    "db.report": "报告",
    "db.its_report": "它的报告",
    "db.not_live": "通话 {id} 不在进行中；请看",
    "db.agitation_title": "激动程度 {v}（0–1）",
    "db.alert_at": " {call} · {time}",
    "db.withdrawn": "已撤回：{reason}",
    "db.withdrawn.no_words": "坐席的话里没有识别出字词",
    "db.withdrawn.backchannel": "坐席说的是附和语",
    "db.withdrawn.closing": "结束语（致谢、道别）中的重叠",
    "db.withdrawn.louder_calm": "计入客户的话后，其激动程度为 {agitation}（{threshold} 起算激动）",
    "db.withdrawn.louder_turn": "整段话比坐席平时音量高 {loudness_rel_db} dB（上限 +{limit_db} dB）",
    "db.withdrawn.louder_rule": "按这段话的字词，规则不成立",
  },
};

// Finding kinds by the call's language (the rubric names practices; kinds are the detectors').
// prettier-ignore
const KINDS = {
  en: {
    low_confidence: "unclear speech", low_conf_words: "unclear words", too_fast: "too fast",
    too_slow: "too slow", too_quiet: "too quiet", mumbling: "mumbling",
    interruption: "interruption", possible_interruption: "possible interruption",
    customer_interruption: "customer interruption", interruption_summary: "interruptions (summary)",
    customer_protest: "customer asked to finish",
    louder: "louder", faster: "faster", retort: "retort",
    took_floor_over_customer: "took the floor over the customer", took_floor_in_pause: "took the floor in a pause",
    took_floor_latched: "took the floor at once", redirect: "redirect",
    ack_phrase: "acknowledgement", ack_rate: "acknowledgement rate", repeated_ack: "repeated acknowledgement",
    long_turn_unacknowledged: "long turn unacknowledged", apology_demand: "apology demanded",
    empathy_phrase: "empathy", commitment: "commitment", next_step: "next step", time_frame: "time frame",
    no_empathy: "no empathy", no_commitment: "no commitment", no_next_step: "no next step",
    no_time_frame: "no time frame", greeting_hello: "greeting", greeting_name: "name",
    greeting_offer: "offer to help", greeting_incomplete: "greeting incomplete",
    closing_thanks: "thanks", closing_invite: "invitation", closing_farewell: "goodbye",
    closing_incomplete: "closing incomplete", courtesy_phrase: "courtesy", courtesy_share: "courtesy share",
    rude: "rude", apology: "apology", no_apology: "no apology", paraphrase: "paraphrase",
    no_paraphrase: "no paraphrase", empathy: "empathy", arguing: "arguing", blame_shift: "blame shift",
    excuse: "excuse", overpromise: "overpromise", options: "options", no_options: "no options",
  },
  zh: {
    low_confidence: "吐字不清", low_conf_words: "有字听不清", too_fast: "语速过快", too_slow: "语速过慢",
    too_quiet: "音量过低", mumbling: "声音含糊", interruption: "插话",
    possible_interruption: "可能插话", customer_interruption: "客户插话",
    interruption_summary: "插话汇总", louder: "音量升高", faster: "语速加快", retort: "回敬客户",
    customer_protest: "客户要求说完",
    took_floor_over_customer: "抢过话头", took_floor_in_pause: "在停顿时接话",
    took_floor_latched: "立即接话", redirect: "引导话题", ack_phrase: "表示理解",
    ack_rate: "表示理解的频率", repeated_ack: "重复应答", long_turn_unacknowledged: "长段倾诉后未回应",
    apology_demand: "要求客户道歉", empathy_phrase: "体谅客户", commitment: "做出承诺",
    next_step: "下一步行动", time_frame: "完成时间", no_empathy: "没有体谅客户",
    no_commitment: "没有承诺", no_next_step: "没有下一步", no_time_frame: "没有完成时间",
    greeting_hello: "问候", greeting_name: "自我介绍", greeting_offer: "主动提供帮助",
    greeting_incomplete: "开场不完整", closing_thanks: "致谢", closing_invite: "邀请再联系",
    closing_farewell: "祝福道别", closing_incomplete: "结束语不完整", courtesy_phrase: "礼貌用语",
    courtesy_share: "礼貌用语比例", rude: "不礼貌", apology: "道歉", no_apology: "没有道歉",
    paraphrase: "复述确认", no_paraphrase: "没有复述", empathy: "认同感受", arguing: "争辩",
    blame_shift: "推诿", excuse: "找理由", overpromise: "过度承诺", options: "提供方案",
    no_options: "没有提供方案",
  },
};

// What a finding found, in Chinese, from its measured fields (the detector's own `detail` is
// English; a kind without a sentence here keeps it, marked lang="en").
// prettier-ignore
const DETAILS_ZH = {
  interruption: "客户还在说话时插话，重叠 {value} 秒（标准：重叠不少于 {threshold} 秒算插话）。",
  possible_interruption: "客户刚停下就马上接话（单声道录音，可能是插话）。",
  customer_interruption: "客户在坐席说话时插话（不扣分）。",
  customer_protest: "客户要求把话说完：“{phrase}”（坐席没等客户说完就接了话）。",
  interruption_summary: "坐席共插话，合计重叠 {value} 秒。",
  louder: "音量比平时高 {value} dB（上限 {threshold} dB）。",
  faster: "语速是平时的 {value} 倍（上限 {threshold} 倍）。",
  retort: "回敬客户：“{phrase}”。",
  took_floor_over_customer: "客户还在说话时接过话头（重叠 {value} 秒）。",
  took_floor_in_pause: "在客户停顿时接话。",
  took_floor_latched: "客户一停下就立即接话。",
  redirect: "用引导的话转向解决问题：“{phrase}”。",
  low_confidence: "这句话识别置信度 {value}，低于 {threshold}。",
  low_conf_words: "有 {value} 的字听不清（上限 {threshold}）。",
  too_fast: "语速每秒 {value} 个字，超过 {threshold}。",
  too_slow: "语速每秒 {value} 个字，低于 {threshold}。",
  too_quiet: "音量 {value} dB，低于 {threshold} dB。",
  mumbling: "声音比平时低 {value} dB，听起来含糊。",
  ack_phrase: "坐席表示理解：“{phrase}”。",
  ack_rate: "客户每讲一分钟，坐席表示理解 {value} 次（标准不少于 {threshold} 次）。",
  repeated_ack: "坐席连续说了 {value} 次“{phrase}”。",
  long_turn_unacknowledged: "客户连续讲了 {value} 秒，之后坐席没有表示理解。",
  apology_demand: "坐席要求客户道歉或认错：“{phrase}”。",
  empathy_phrase: "坐席体谅客户：“{phrase}”。",
  commitment: "坐席做出承诺：“{phrase}”。",
  next_step: "坐席给出具体的下一步：“{phrase}”。",
  time_frame: "坐席给出完成时间：“{phrase}”。",
  no_empathy: "客户说明问题后，坐席没有先体谅客户的感受。",
  no_commitment: "坐席没有做出解决问题的承诺。",
  no_next_step: "坐席没有给出具体的下一步。",
  no_time_frame: "坐席给出了下一步，但没有说什么时候完成。",
  greeting_hello: "开场问候：“{phrase}”。",
  greeting_name: "开场自我介绍：“{phrase}”。",
  greeting_offer: "开场主动提供帮助：“{phrase}”。",
  greeting_incomplete: "开场只有 {value} 项，应有 {threshold} 项（问候、自我介绍、主动提供帮助）。",
  closing_thanks: "结束时致谢：“{phrase}”。",
  closing_invite: "结束时邀请客户再联系：“{phrase}”。",
  closing_farewell: "结束时祝福道别：“{phrase}”。",
  closing_incomplete: "结束语只有 {value} 项，应有 {threshold} 项（致谢、邀请再联系、祝福道别）。",
  courtesy_phrase: "坐席使用礼貌用语：“{phrase}”。",
  courtesy_share: "{value}% 的回答用了礼貌用语（标准不少于 {threshold}%）。",
  rude: "坐席说了不礼貌的话：“{phrase}”。",
  apology: "坐席为给客户带来的不便道歉：“{phrase}”。",
  no_apology: "客户反映了问题，坐席没有为带来的不便道歉。",
  paraphrase: "坐席复述确认客户的问题：“{phrase}”。",
  no_paraphrase: "客户说明问题后，坐席没有复述确认。",
  empathy: "坐席认同客户的感受：“{phrase}”。",
  arguing: "坐席和客户争辩：“{phrase}”。",
  blame_shift: "坐席把责任推给别人：“{phrase}”。",
  excuse: "坐席找理由：“{phrase}”。",
  overpromise: "坐席做出可能做不到的承诺：“{phrase}”。",
  options: "坐席提供了多种方案：“{phrase}”。",
  no_options: "坐席没有提供可选的方案。",
};

const MATCH_ZH = { exact: "", normalised: "（规范化匹配）", phonetic: "（同音匹配）", fuzzy: "（近似匹配）", pattern: "（句式匹配）", learned: "（模型判断，无词表匹配）" };
const REVIEW_ZH = {
  low_role_confidence: "无法确定谁是坐席",
  one_speaker: "录音里只听到一个人说话",
  one_role: "只识别出一种角色",
  short_call: "通话太短",
  not_service: "可能不是一通服务电话",
};

// Static text of pages whose HTML carries no data-i18n keys (the review list, the dashboard and
// the pages added beside them), by its English wording: a text node, <title>, placeholder, title
// or aria-label whose whole (trimmed) text is listed here is shown in Chinese.
// prettier-ignore
const STATIC_ZH = {
  "QA review · Calmline": "质检 · Calmline", "Live calls · Calmline": "实时通话 · Calmline",
  "QA review": "质检", "Live calls": "实时通话", "Agents' disputes": "坐席申诉", "Calibration": "校准",
  "Trends": "趋势", "Search transcripts": "搜索通话文本",
  "words said in the call, 中文 or English": "通话里说过的话，中文或英文", "Agent": "坐席",
  "any agent": "任意坐席", "From (UTC)": "起始日期（UTC）", "To (UTC, inclusive)": "截止日期（UTC，含当天）",
  "Language": "语言", "any": "任意", "English": "英语", "Chinese": "中文", "Score from": "最低分",
  "Score to": "最高分", "Practice": "规范", "Practice below": "规范得分低于", "e.g. 60": "例如 60",
  "Critical": "严重问题", "critical only": "仅严重", "no critical": "无严重问题", "Review": "复核",
  "needs review": "待复核", "roles certain": "角色确定", "Finding": "发现", "Evaluated": "已评估",
  "evaluated": "已评估", "not evaluated": "未评估", "Disputed": "申诉", "disputed": "已申诉",
  "not disputed": "未申诉", "Per page": "每页", "Apply": "应用", "Clear": "清除", "Call": "通话",
  "Started": "开始时间", "Length": "时长", "Lang.": "语言", "Status": "状态", "Overall": "总分",
  "Customer": "客户", "Weakest practice": "最弱规范", "← Newer": "← 较新", "Older →": "较早 →",
  "Export scores (CSV)": "导出得分（CSV）", "Duration": "时长", "Agent talk": "坐席说话",
  "Interruptions": "插话", "Customer agitation": "客户激动程度", "Alerts": "提醒", "State": "状态",
  "Loading…": "加载中……",
};

/** A supported language code ("zh" or "en") for a BCP 47 tag, or null. */
export function baseLang(tag) {
  const base = String(tag || "").toLowerCase().split(/[-_]/)[0];
  return LANGS.includes(base) ? base : null;
}

function storedLang() {
  try {
    return baseLang(localStorage.getItem(STORE_KEY));
  } catch {
    return null;
  }
}

/** The interface language: the user's choice, else the first supported browser language. */
export function detectLang() {
  const chosen = storedLang();
  if (chosen) return chosen;
  for (const tag of navigator.languages || [navigator.language]) {
    const lang = baseLang(tag);
    if (lang) return lang;
  }
  return "en";
}

export const LANG = detectLang();

function fill(text, params) {
  return text.replace(/\{(\w+)\}/g, (m, name) => (params && params[name] !== undefined && params[name] !== null ? String(params[name]) : m));
}

/** A message in `lang` (English when the key has no translation; the key when unknown). */
export function tl(lang, key, params) {
  const text = (CATALOG[lang] && CATALOG[lang][key]) ?? CATALOG.en[key] ?? key;
  return fill(text, params);
}

/** A message in the interface language: t("common.range", {first: 1, last: 2, total: 2}). */
export function t(key, params) {
  return tl(LANG, key, params);
}

/** A language code's name in the interface language ("zh" -> "Chinese"/"中文"; others as given). */
export function langName(code) {
  const key = `lang.${baseLang(code)}`;
  return CATALOG.en[key] ? t(key) : code || "–";
}

/** The catalogs (tests check the Chinese punctuation). */
export function catalogs() {
  return { ui: CATALOG, kinds: KINDS, details: { zh: DETAILS_ZH } };
}

/** Choose the interface language: kept for the next visits, the page reloads in it. */
export function setLang(lang) {
  try {
    localStorage.setItem(STORE_KEY, lang);
  } catch {
    /* storage refused (private mode): the choice lasts this page only */
  }
  location.reload();
}

/** "zh" when the text holds Chinese characters, else "en": for lang attributes of quotes. */
export function textLang(text) {
  return /[\u3400-\u9fff\uf900-\ufaff]/.test(String(text || "")) ? "zh" : "en";
}

const HALF_TO_FULL = { ",": "，", "?": "？", "!": "！", ":": "：", ";": "；", ".": "。" };
const CJK = "\u3400-\u9fff\uf900-\ufaff";
const AFTER_CJK = new RegExp(`([${CJK}])([,?!:;.])(?!\\d)`, "gu");

/**
 * Chinese text with full-width punctuation: a half-width , ? ! : ; . right after a Chinese
 * character becomes ，？！：；。 (one character for one, so offsets into the text still hold;
 * "1.5" and English text are left alone). Transcripts from speech recognition often carry
 * half-width marks.
 */
export function zhPunct(text) {
  if (text === null || text === undefined) return text;
  return String(text).replace(AFTER_CJK, (m, ch, mark) => ch + HALF_TO_FULL[mark]);
}

/** A call's language as one of ours (English for anything else). */
export function callLang(language) {
  return baseLang(language) || "en";
}

/** A finding kind's name in `lang` (the call's language). */
export function kindLabel(kind, lang) {
  const l = callLang(lang);
  return (KINDS[l] && KINDS[l][kind]) || KINDS.en[kind] || String(kind).replaceAll("_", " ");
}

function num(v) {
  if (v === null || v === undefined || Number.isNaN(Number(v))) return v;
  const n = Number(v);
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 100) / 100);
}

/**
 * A finding's detail in `lang` (the call's language): {text, lang}. Chinese details are built
 * from the measured fields (value, threshold, phrase, how it matched); where a field the sentence
 * needs is missing, or for a kind without a sentence, the detector's English detail stays.
 */
export function findingDetail(f, lang) {
  const original = { text: f.detail || "", lang: "en" };
  if (callLang(lang) !== "zh") return original;
  const template = DETAILS_ZH[f.kind];
  if (!template) return original;
  const params = { value: num(f.value), threshold: num(f.threshold), phrase: f.matched || f.phrase || f.quote };
  const needed = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  if (needed.some((k) => params[k] === null || params[k] === undefined || params[k] === "")) return original;
  return { text: fill(template, params) + (MATCH_ZH[f.match_kind] || ""), lang: "zh" };
}

// Why a practice does not apply (monitor/applicability.py writes these in English), in Chinese.
// prettier-ignore
const NOT_APPLICABLE_ZH = [
  [/^one voice in the recording/, () => "录音里只有一个声音，没有客户可以评判"],
  [/^no voice in the recording/, () => "录音里没有人声，无法评判"],
  [/^the agent said nothing the recogniser heard/, () => "识别不到坐席说的话"],
  [/^the customer said nothing the recogniser heard/, () => "识别不到客户说的话"],
  [/^no customer problem heard.*reached ([\d.]+)/, (m) => `没有听到客户反映问题（没有投诉或生气的话，客户激动程度从未达到 ${m[1]}，坐席也没有认同客户的感受）`],
  [/^no customer turn of ([\d.]+) s or more/, (m) => `客户没有连续讲 ${m[1]} 秒以上、之后由坐席接话的情况`],
  [/^every moment it could judge is counted under another practice/, () => "能评判的时刻都已计入其他规范（见发现）"],
  [/^the call gives nothing to judge it on/, () => "这通电话里没有可以评判的内容"],
];

/** Why a practice does not apply, in `lang` (the call's language): {text, lang}. */
export function notApplicableReason(reason, lang) {
  if (callLang(lang) === "zh") {
    for (const [pattern, say] of NOT_APPLICABLE_ZH) {
      const m = String(reason || "").match(pattern);
      if (m) return { text: say(m), lang: "zh" };
    }
  }
  return { text: reason, lang: "en" };
}

/** A review reason ({code, detail}) in the interface language. */
export function reviewReason(reason) {
  return LANG === "zh" && REVIEW_ZH[reason.code] ? `${REVIEW_ZH[reason.code]}（${reason.detail}）` : reason.detail;
}

/** Translate the static text of `root`: data-i18n (text), data-i18n-placeholder/-title/-aria-label. */
export function translatePage(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const attr of ["placeholder", "title", "aria-label"]) {
    for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) el.setAttribute(attr, t(el.getAttribute(`data-i18n-${attr}`)));
  }
}

/** Static English text of `root` in Chinese where STATIC_ZH lists it (nothing in English). */
export function translateStatic(root = document.body) {
  if (LANG !== "zh") return;
  const zh = (text) => STATIC_ZH[text.trim()];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = zh(n.textContent);
    if (text) n.textContent = n.textContent.replace(n.textContent.trim(), text);
  }
  for (const attr of ["placeholder", "title", "aria-label"]) {
    for (const el of root.querySelectorAll(`[${attr}]`)) {
      const text = zh(el.getAttribute(attr));
      if (text) el.setAttribute(attr, text);
    }
  }
  if (zh(document.title)) document.title = zh(document.title);
}

/** The language switch (shows the other language's name; a click reloads the page in it). */
export function langSwitch() {
  const other = LANG === "zh" ? "en" : "zh";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "lang-switch";
  button.dataset.testid = "lang-switch";
  button.dataset.lang = other;
  button.lang = HTML_LANG[other];
  button.title = t("lang.switch.title");
  button.textContent = t("lang.switch");
  button.addEventListener("click", () => setLang(other));
  return button;
}

/** data-label on each cell of a table.list from its column header (the phone layout shows it). */
export function labelCells(table) {
  const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
  if (!heads.length) return;
  for (const tr of table.querySelectorAll("tbody tr")) {
    [...tr.children].forEach((td, i) => {
      if (td.colSpan > 1) td.dataset.label = "";
      else if (heads[i] && td.dataset.label !== heads[i]) td.dataset.label = heads[i];
    });
  }
}

function labelAllTables() {
  for (const table of document.querySelectorAll("table.list")) labelCells(table);
}

function start() {
  document.documentElement.lang = HTML_LANG[LANG];
  document.documentElement.dataset.uiLang = LANG;
  translatePage();
  translateStatic();
  const header = document.querySelector("header.top");
  if (header && !header.querySelector(".lang-switch")) header.append(langSwitch());
  labelAllTables();
  let pending = false;
  new MutationObserver(() => {
    if (pending) return;
    pending = true;
    queueMicrotask(() => {
      pending = false;
      labelAllTables();
    });
  }).observe(document.body, { childList: true, subtree: true });
}

start();
