"""Fixture GA4 export rows for the BigQuery model tests, small enough to work out by hand.

The story (dates 2026-08-01 = D1, 2026-08-02 = D2; the epoch is 2026-07-29, the first raw
shard 2026-01-18):

- session (u1, 11), co, screening A on D1: the whole screener, results, details, help, shares,
  saves, NPS, resources, navigator, documents, scroll, chrome clicks.
- sessions (u2, 21) on D1 and (u2, 22) on D2, co, screening B: results twice, apply.
- sessions (u8, 81) on 2026-07-20 (before the epoch, state still the display name 'Colorado')
  and (u8, 82) on D1, screening C.
- session (u9, 91), nc, D1: language, disclaimer, zip code (no screening id before step 3).
- session (u3, 31) nc landing on D2; (u6, 11) reuses u1's session id (a different session).
- session (u7, 71), CESN on D2, screening E: the landing event has no state.
- session (u10, 101), CESN, starts a minute before midnight of D1 and goes on into D2.
- rows that must never be read: a shard before the first raw shard and an intraday shard.
"""

from __future__ import annotations

import datetime

SITE = "https://screener.myfriendben.org"
D1, D2, OLD = "20260801", "20260802", "20260720"


def ev(day, t, name, user, sid, *, suffix=None, items=(), **params):
    """One GA4 export row: (table suffix, event_date, timestamp µs, name, user, params, items)."""
    date = datetime.datetime.strptime(day, "%Y%m%d").replace(tzinfo=datetime.UTC)
    micros = int(date.timestamp()) * 1_000_000 + t * 1_000_000
    if sid is not None:
        params = {"ga_session_id": sid, **params}
    return (suffix or day, day, micros, name, user, params, list(items))


def item(list_name, item_id=None, name=None, category=None):
    return {
        "item_id": item_id,
        "item_name": name,
        "item_category": category,
        "item_list_name": list_name,
    }


def _a(t, name, **params):  # screening A, session (u1, 11), co, D1
    return ev(D1, t, name, "u1", 11, screener_state="co", screener_uid="A", **params)


def _b(day, sid, t, name, **params):  # screening B, co
    return ev(day, t, name, "u2", sid, screener_state="co", screener_uid="B", **params)


EDIT_LINK = "Additional Resources — Edit Step"

GA4_EVENTS = [
    # --- session (u1, 11): traffic ------------------------------------------------------
    ev(D1, 0, "session_start", "u1", 11, medium="organic", source="google"),
    ev(D1, 0, "page_view", "u1", 11, page_location=f"{SITE}/co/step-1"),
    ev(D1, 60, "page_view", "u1", 11, page_location=f"{SITE}/co/results/benefits"),
    ev(
        D1,
        90,
        "outbound_link",
        "u1",
        11,
        link_url="https://x.gov/apply",
        link_domain="x.gov",
        outbound="true",
        page_location=f"{SITE}/co/results",
    ),
    ev(
        D1,
        91,
        "outbound_link",
        "u1",
        11,
        link_url="https://y.org/path?q=1",
        link_domain="",
        outbound="true",
        page_location=f"{SITE}/co/results",
    ),
    ev(
        D1,
        5,
        "outbound_link",
        "u1",
        11,
        link_url="https://z.org",
        link_domain="z.org",
        outbound="true",
        page_location=f"{SITE}/co/step-1",
    ),
    # --- screening A: the form ------------------------------------------------------------
    ev(D1, 1, "screener_form_start", "u1", 11, screener_state="co"),
    _a(2, "screener_form_step", screener_step_name="zip-code", step_action="view"),
    _a(3, "screener_form_step", screener_step_name="zip-code", step_action="complete"),
    _a(
        4,
        "screener_form_error",
        screener_step_name="household-size",
        form_field_name="householdSize",
        form_error_reason=" too big ",
    ),
    _a(
        5,
        "screener_form_error",
        screener_step_name="household-size",
        form_field_name="incomeStreams.0.incomeAmount",
    ),
    _a(6, "screener_form_back", screener_step_name="household-size"),
    _a(
        7,
        "screener_form_step",
        screener_step_name="member-details",
        step_action="view",
        member_index=0,
    ),
    _a(
        8,
        "screener_form_step",
        screener_step_name="member-details",
        step_action="view",
        member_index=1,
    ),
    _a(9, "screener_form_step", screener_step_name="member-details", step_action="view"),
    _a(10, "screener_household_member", action="add"),
    _a(11, "screener_household_member", action="add"),
    _a(12, "screener_household_member", action="delete"),
    _a(13, "screener_income_source", action="add", member_index=0),
    _a(14, "screener_income_source", action="delete", member_index=1),
    _a(15, "screener_income_source", action="add"),
    _a(
        16,
        "screener_help_click",
        help_topic="household-size-help",
        screener_step_name="household-size",
    ),
    _a(17, "screener_help_click", screener_step_name="zip-code"),
    _a(18, "screener_confirmation_edit", section="householdData"),
    _a(19, "screener_confirmation_edit", section="householdData"),
    _a(20, "screener_confirmation_edit", section="zipcode"),
    _a(21, "screener_signup_completed", sms_consent="true", email_consent="false"),
    _a(22, "screener_language_changed", language_name="Spanish"),
    _a(23, "screener_logo_click", location="header"),
    _a(24, "screener_social_click", network="facebook"),
    _a(25, "screener_link_click", link_name="Privacy Policy", link_location="footer"),
    _a(26, "screener_link_click", link_name="Terms and Conditions"),
    _a(
        27,
        "screener_link_click",
        link_name="Public Charge",
        link_location="disclaimer_inline",
        screener_step_name="disclaimer",
    ),
    _a(
        28,
        "screener_link_click",
        link_name="Learn more",
        link_location="zip_code_inline",
        screener_step_name="zip-code",
    ),
    # --- screening A: results ---------------------------------------------------------------
    _a(61, "screener_results_loaded", program_count=3, total_estimated_value=1200.5),
    _a(62, "screener_program_more_info", program_id=7),
    _a(63, "screener_results_error"),
    _a(64, "screener_results_error_recovery"),
    _a(
        65,
        "view_item_list",
        items=[
            item("results_programs", "7", "SNAP"),
            item("results_programs", "9", "WIC"),
            item("results_navigators", "n1", "Nav One", "7"),
            item("results_documents", None, "Proof of income", "7"),
            item("results_resources", None, "Food Bank"),
            item("results_resources", None, "Legal Aid"),
        ],
    ),
    _a(66, "screener_program_document_download", program_id=7, document_name="Proof of income"),
    _a(67, "screener_navigator_engaged", program_id=7, navigator_id="n1", contact_method="phone"),
    _a(68, "screener_navigator_engaged", program_id=7, navigator_id="n1", contact_method="phone"),
    _a(69, "screener_results_tab_click", tab_name="additional_resources"),
    _a(
        70,
        "screener_additional_resource_click",
        resource_name="Food Bank",
        contact_method="website",
    ),
    _a(71, "screener_additional_resource_more_info", resource_name="Legal Aid"),
    _a(72, "screener_get_help_click", location="results"),
    _a(73, "screener_more_help_resource_click", resource_name="moreHelp.resource_name1"),
    _a(74, "screener_more_help_resource_click", resource_index=2),
    _a(75, "screener_more_help_resource_click", resource_name="Food Pantry"),
    _a(76, "screener_link_click", link_name=EDIT_LINK),
    _a(77, "screener_link_click", link_name="Food help", link_location="results_needs"),
    _a(78, "screener_filter_engaged", filter_type="citizenship"),
    _a(79, "screener_filter_engaged", filter_type="citizenship"),
    _a(80, "screener_nps_score_submitted", score=9),
    _a(81, "screener_nps_reason_submitted", score=9),
    _a(82, "screener_results_back_to_screener"),
    _a(83, "screener_results_back_to_screener"),
    _a(84, "screener_results_save", save_channel="email", save_action="open"),
    _a(85, "screener_results_save", save_channel="email", save_action="send"),
    _a(86, "screener_results_save", save_channel="email", save_action="send"),
    _a(
        87,
        "screener_share",
        share_location="results_popup",
        share_channel="email",
        share_provider="gmail",
        share_action="open",
    ),
    _a(
        88,
        "screener_share",
        share_location="results_popup",
        share_channel="email",
        share_provider="gmail",
        share_action="send",
    ),
    _a(89, "screener_results_scroll_depth", depth=25, tab_name="long_term_benefits"),
    _a(90, "screener_results_scroll_depth", depth="50", tab_name="long_term_benefits"),
    _a(91, "screener_results_scroll_depth", depth=100, tab_name="additional_resources"),
    # --- screening B --------------------------------------------------------------------------
    ev(D1, 100, "session_start", "u2", 21),
    ev(D1, 100, "page_view", "u2", 21, page_location=f"{SITE}/co/step-1"),
    ev(D1, 110, "page_view", "u2", 21, page_location=f"{SITE}/co/results"),
    _b(D1, 21, 111, "screener_results_loaded", program_count=1, total_estimated_value=100),
    _b(D1, 21, 112, "screener_apply_click", program_id=9),
    _b(D1, 21, 113, "screener_get_help_click", location="results"),
    _b(D1, 21, 114, "screener_confirmation_edit", section="householdData"),
    _b(D1, 21, 115, "screener_confirmation_edit", section="customThing"),
    _b(D1, 21, 116, "screener_signup_completed", sms_consent="false", email_consent="true"),
    _b(D1, 21, 117, "screener_signup_completed", sms_consent="true", email_consent="true"),
    _b(D1, 21, 118, "screener_filter_engaged"),
    _b(D1, 21, 119, "screener_nps_score_submitted", score="3"),
    _b(D1, 21, 120, "screener_nps_reason_skipped"),
    _b(D1, 21, 121, "screener_results_back_to_screener"),
    _b(D1, 21, 122, "screener_results_save", save_channel="sms", save_action="send"),
    _b(D1, 21, 123, "screener_results_scroll_depth", depth=25, tab_name="long_term_benefits"),
    # chrome before any state param: the URL gives co
    ev(
        D1,
        101,
        "screener_language_changed",
        "u2",
        21,
        language_name="Spanish",
        page_location=f"{SITE}/co/step-1",
    ),
    ev(
        D1,
        102,
        "screener_feedback_click",
        "u2",
        21,
        channel="survey",
        page_location=f"{SITE}/co/step-1",
    ),
    ev(
        D1,
        103,
        "screener_share",
        "u2",
        21,
        share_location="footer",
        share_action="open",
        page_location=f"{SITE}/co/step-1",
    ),
    # B comes back the next day
    _b(D2, 22, 86400, "screener_results_loaded", program_count=1, total_estimated_value=100),
    _b(D2, 22, 86401, "view_item_list", items=[item("results_programs", "(not set)")]),
    _b(D2, 22, 86402, "screener_results_scroll_depth", depth=75, tab_name="long_term_benefits"),
    _b(D2, 22, 86403, "screener_household_member"),
    # --- screening C: first seen before the epoch (display-name state), back on D1 ------------
    ev(OLD, 0, "session_start", "u8", 81),
    ev(OLD, 1, "screener_results_loaded", "u8", 81, screener_state="Colorado", screener_uid="C"),
    ev(
        D1,
        200,
        "screener_results_loaded",
        "u8",
        82,
        screener_state="co",
        screener_uid="C",
        program_count=2,
        total_estimated_value=500,
    ),
    # --- session (u9, 91), nc, D1 ---------------------------------------------------------------
    ev(D1, 300, "screener_form_step", "u9", 91, screener_step_name="language", step_action="view"),
    ev(
        D1,
        301,
        "screener_form_step",
        "u9",
        91,
        screener_state="nc",
        screener_step_name="disclaimer",
        step_action="view",
    ),
    ev(
        D1,
        302,
        "screener_form_step",
        "u9",
        91,
        screener_state="nc",
        screener_step_name="zip-code",
        step_action="view",
    ),
    # --- D2 landings ----------------------------------------------------------------------------
    ev(D2, 86400, "session_start", "u3", 31),
    ev(D2, 86400, "page_view", "u3", 31, page_location=f"{SITE}/nc"),
    ev(
        D2,
        86401,
        "screener_language_changed",
        "u3",
        31,
        language_name="Vietnamese",
        page_location=f"{SITE}/nc",
    ),
    ev(D2, 86402, "screener_logo_click", "u3", 31, location="sidebar", page_location=f"{SITE}/nc"),
    ev(D2, 86401, "session_start", "u6", 11),
    ev(D2, 86401, "page_view", "u6", 11, page_location=f"{SITE}/co"),
    # --- CESN session (u7, 71), screening E ------------------------------------------------------
    ev(D2, 86500, "screener_form_start", "u7", 71),
    ev(
        D2,
        86501,
        "screener_form_step",
        "u7",
        71,
        screener_state="cesn",
        screener_step_name="language",
        step_action="view",
    ),
    ev(
        D2,
        86502,
        "screener_form_step",
        "u7",
        71,
        screener_state="cesn",
        screener_step_name="cesn-utility-status",
        step_action="view",
    ),
    ev(
        D2,
        86503,
        "screener_form_step",
        "u7",
        71,
        screener_state="cesn",
        screener_uid="E",
        screener_step_name="cesn-appliances",
        step_action="view",
    ),
    # --- CESN session (u10, 101) across midnight: only its D1 event carries the state ---------
    ev(D1, 86399, "screener_form_start", "u10", 101, screener_state="cesn"),
    ev(D2, 5, "screener_form_step", "u10", 101, screener_step_name="language", step_action="view"),
    # --- never read: below the first raw shard, and an intraday shard -----------------------------
    ev("20260101", 0, "session_start", "u4", 41),
    ev("20260101", 1, "screener_results_loaded", "u4", 41, screener_state="co", screener_uid="Z"),
    ev("20260728", 0, "session_start", "u4", 42),
    ev("20260728", 0, "page_view", "u4", 42, page_location=f"{SITE}/co/step-1"),
    ev(D2, 86402, "session_start", "u5", 51, suffix=f"intraday_{D2}"),
    ev(
        D2, 86402, "page_view", "u5", 51, suffix=f"intraday_{D2}", page_location=f"{SITE}/co/step-1"
    ),
    ev(
        D2,
        86403,
        "screener_results_loaded",
        "u5",
        51,
        suffix=f"intraday_{D2}",
        screener_state="co",
        screener_uid="Y",
    ),
]


# --- generated sessions for every state (mfb-infra preview) -----------------------------------
STEPS = (
    "language",
    "disclaimer",
    "zip-code",
    "household-size",
    "member-basics",
    "income",
    "confirm-information",
)
CESN_STEPS = ("cesn-utility-status", "cesn-household", "cesn-income")
MEDIUMS = (("organic", "google"), ("referral", "partner.org"), ("cpc", "google"), (None, None))


SAMPLE_PROGRAMS = ((7, "SNAP"), (9, "WIC"), (11, "Medicaid"), (12, "LIHEAP"))


def sample_events(
    states: tuple[str, ...], *, days: int = 45, per_day: int = 3, seed: int = 7, end=None
) -> list[tuple]:
    """Generated GA4 sessions for every state code over the `days` before `end` (default: today
    UTC), from the epoch on, in the fixture's vocabulary: each screener session lands, starts
    the form, walks some steps (CESN sessions the cesn- steps) with some errors and backs, and
    part of them reach results, open a program, apply and click out. Same arguments, same rows.
    The hand-worked GA4_EVENTS stay the tests' fixture; these give every tenant's GA4 cards rows
    to draw in `mfb-infra preview`.
    """
    import random

    rng = random.Random(seed)
    today = end or datetime.datetime.now(datetime.UTC).date()
    epoch = datetime.date(2026, 7, 29)
    out: list[tuple] = []
    session = 1000
    for back in range(days, 0, -1):
        date = today - datetime.timedelta(days=back)
        if date < epoch:
            continue
        day = date.strftime("%Y%m%d")
        for state in states:
            for k in range(per_day):
                session += 1
                user, uid = f"g{session}", f"S{session}"
                t = 3600 * (k + 1) + rng.randint(0, 600)
                medium, source = MEDIUMS[rng.randrange(len(MEDIUMS))]
                start = {"medium": medium, "source": source} if medium else {}
                page = f"{SITE}/{state}"
                st = {"screener_state": state, "screener_uid": uid}
                out.append(ev(day, t, "session_start", user, session, **start))
                out.append(ev(day, t, "page_view", user, session, page_location=f"{page}/step-1"))
                out.append(ev(day, t + 1, "screener_form_start", user, session,
                              screener_state=state))  # fmt: skip
                steps = CESN_STEPS if state == "cesn" else STEPS
                # about half the sessions finish: enough results viewers per state for the
                # program cards' thresholds (shown to 20+ screenings per program and state)
                reached = len(steps) if rng.random() < 0.5 else rng.randint(1, len(steps))
                for i, step in enumerate(steps[:reached]):
                    at = t + 2 + 3 * i
                    common = {**st, "screener_step_name": step, "screener_step_number": i + 1}
                    out.append(ev(day, at, "screener_form_step", user, session, **common,
                                  step_action="view"))  # fmt: skip
                    if rng.random() < 0.2:
                        out.append(ev(day, at + 1, "screener_form_error", user, session,
                                      **common, form_error_reason="required"))  # fmt: skip
                    if rng.random() < 0.1:
                        out.append(ev(day, at + 1, "screener_form_back", user, session, **common))
                    out.append(ev(day, at + 2, "screener_form_step", user, session, **common,
                                  step_action="complete"))  # fmt: skip
                if reached < len(steps):
                    continue
                done = t + 40 + rng.randint(0, 300)
                out.append(ev(day, done, "screener_form_complete", user, session, **st))
                out.append(ev(day, done, "page_view", user, session,
                              page_location=f"{page}/results/benefits"))  # fmt: skip
                out.append(ev(day, done + 1, "screener_results_loaded", user, session, **st,
                              program_count=rng.randint(1, 9)))  # fmt: skip
                out.append(ev(day, done + 2, "view_item_list", user, session, **st,
                              items=[item("results_programs", str(pid), name)
                                     for pid, name in SAMPLE_PROGRAMS]))  # fmt: skip
                if rng.random() < 0.6:
                    pid = SAMPLE_PROGRAMS[rng.randrange(len(SAMPLE_PROGRAMS))][0]
                    out.append(ev(day, done + 5, "screener_program_more_info", user, session,
                                  **st, program_id=pid))  # fmt: skip
                    if rng.random() < 0.5:
                        out.append(ev(day, done + 9, "screener_apply_click", user, session, **st,
                                      program_id=pid))  # fmt: skip
                        out.append(ev(day, done + 10, "outbound_link", user, session,
                                      link_url="https://apply.example.gov",
                                      link_domain="apply.example.gov",
                                      outbound="true"))  # fmt: skip
    out.extend(restated_screenings(states))
    return out


def _restate(value, state: str):
    if isinstance(value, str):
        return value.replace(f"{SITE}/co/", f"{SITE}/{state}/").replace(
            f"{SITE}/co", f"{SITE}/{state}"
        )
    return value


def restated_screenings(
    states: tuple[str, ...], users: tuple[str, ...] = ("u1", "u2")
) -> list[tuple]:
    """The hand-made co screenings A and B (every event type the GA4 cards read: results,
    programs, navigators, documents, resources, help, NPS, shares, saves, chrome clicks) copied
    once per state: state, page paths, screening ids, users and session ids made the state's.
    Deterministic; gives every tenant's GA4 card rows in `mfb-infra preview`."""
    out: list[tuple] = []
    for n, state in enumerate(states, start=1):
        for suffix, day, micros, name, user, params, items in GA4_EVENTS:
            if user not in users:
                continue
            p = {k: _restate(v, state) for k, v in params.items()}
            if p.get("screener_state") == "co":
                p["screener_state"] = state
            if "screener_uid" in p:
                p["screener_uid"] = f"{p['screener_uid']}-{state}"
            if "ga_session_id" in p:
                p["ga_session_id"] = 100_000 * n + int(p["ga_session_id"])
            out.append((suffix, day, micros, name, f"{user}-{state}", p, list(items)))
    return out
