"""GA4 export rows for the offline BigQuery marts: hand-sized, so every mart's figures can be
worked out by hand in the dbt tests, and every GA4 card has rows to draw in `mfb-infra preview`.

Each event is (table suffix, event_date, timestamp in microseconds, event_name,
user_pseudo_id, params); `mfb_infra.ga4_local` loads them in the GA4 export's shape.
"""

from __future__ import annotations

T0 = 1785542400_000000  # 2026-08-01 00:00:00 UTC in microseconds
SECOND = 1_000_000
SITE = "https://screener.myfriendben.org"


def _event(suffix, offset_s, name, user, **params):
    day = suffix[-8:]
    return (suffix, day, T0 + offset_s * SECOND, name, user, params)


GA4_EVENTS = [
    # session (u1, 11), co: started, completed after 60 s, outbound click after results
    _event(
        "20260801", 0, "session_start", "u1", ga_session_id=11, medium="organic", source="google"
    ),
    _event("20260801", 0, "page_view", "u1", ga_session_id=11, page_location=f"{SITE}/co/step-1"),
    _event(
        "20260801",
        60,
        "page_view",
        "u1",
        ga_session_id=11,
        page_location=f"{SITE}/co/results/benefits",
    ),
    _event(
        "20260801",
        90,
        "outbound_link",
        "u1",
        ga_session_id=11,
        link_url="https://x.gov",
        link_domain="x.gov",
    ),
    _event("20260801", 1, "screener_form_start", "u1", ga_session_id=11, screener_state="co"),
    _event(
        "20260801",
        2,
        "screener_form_step",
        "u1",
        ga_session_id=11,
        screener_state="co",
        screener_uid="A",
        screener_step_name="zip-code",
        step_action="view",
    ),
    _event(
        "20260801",
        3,
        "screener_form_step",
        "u1",
        ga_session_id=11,
        screener_state="co",
        screener_uid="A",
        screener_step_name="zip-code",
        step_action="complete",
    ),
    _event(
        "20260801",
        4,
        "screener_form_error",
        "u1",
        ga_session_id=11,
        screener_state="co",
        screener_uid="A",
        screener_step_name="household-size",
    ),
    _event(
        "20260801",
        5,
        "screener_form_error",
        "u1",
        ga_session_id=11,
        screener_state="co",
        screener_uid="A",
        screener_step_name="household-size",
    ),
    _event(
        "20260801",
        6,
        "screener_form_back",
        "u1",
        ga_session_id=11,
        screener_state="co",
        screener_uid="A",
        screener_step_name="household-size",
    ),
    _event(
        "20260801",
        61,
        "screener_results_loaded",
        "u1",
        ga_session_id=11,
        screener_state="co",
        screener_uid="A",
    ),
    _event(
        "20260801",
        62,
        "screener_program_more_info",
        "u1",
        ga_session_id=11,
        screener_state="co",
        screener_uid="A",
        program_id=7,
    ),
    # session (u2, 21), co: completed in 10 s (too fast to time), no session_start
    _event("20260801", 100, "page_view", "u2", ga_session_id=21, page_location=f"{SITE}/co/step-1"),
    _event(
        "20260801", 110, "page_view", "u2", ga_session_id=21, page_location=f"{SITE}/co/results"
    ),
    _event(
        "20260801",
        111,
        "screener_results_loaded",
        "u2",
        ga_session_id=21,
        screener_state="co",
        screener_uid="B",
    ),
    _event(
        "20260801",
        112,
        "screener_apply_click",
        "u2",
        ga_session_id=21,
        screener_state="co",
        screener_uid="B",
    ),
    # screening B comes back in a second session the next day
    _event(
        "20260802",
        86400,
        "screener_results_loaded",
        "u2",
        ga_session_id=22,
        screener_state="co",
        screener_uid="B",
    ),
    # (u3, 31) nc landing only; (u6, 11) reuses u1's session id: a different session
    _event("20260802", 86400, "page_view", "u3", ga_session_id=31, page_location=f"{SITE}/nc"),
    _event("20260802", 86401, "page_view", "u6", ga_session_id=11, page_location=f"{SITE}/co"),
    # CESN: the landing event has no state, the session is CESN anyway
    _event("20260802", 86500, "screener_form_start", "u7", ga_session_id=71),
    _event(
        "20260802",
        86501,
        "screener_form_step",
        "u7",
        ga_session_id=71,
        screener_state="cesn",
        screener_step_name="cesn-utility-status",
        step_action="view",
    ),
    # before the epoch, and an intraday shard: never read
    _event(
        "20260728",
        -4 * 86400,
        "page_view",
        "u4",
        ga_session_id=41,
        page_location=f"{SITE}/co/step-1",
    ),
    _event(
        "intraday_20260802",
        86402,
        "page_view",
        "u5",
        ga_session_id=51,
        page_location=f"{SITE}/co/step-1",
    ),
]


STEPS = ("language", "zip-code", "household-size", "member-basics", "income", "confirm-information")
CESN_STEPS = ("cesn-utility-status", "cesn-household", "cesn-income")
MEDIUMS = (("organic", "google"), ("referral", "partner.org"), ("cpc", "google"), (None, None))


def sample_events(
    states: tuple[str, ...], *, days: int = 45, per_day: int = 3, seed: int = 7, end=None
) -> list[tuple]:
    """Generated GA4 sessions for every state code, over the `days` before `end` (default:
    today UTC), in the same vocabulary as GA4_EVENTS: each screener session starts, walks some
    form steps (CESN sessions walk the cesn- steps), and part of them reach results, view a
    program, apply and click out. Same arguments, same rows.
    """
    import datetime as dt
    import random

    rng = random.Random(seed)
    today = end or dt.datetime.now(dt.UTC).date()
    epoch = dt.datetime(2026, 8, 1, tzinfo=dt.UTC).date()
    out: list[tuple] = []
    session = 1000
    for back in range(days, 0, -1):
        day = today - dt.timedelta(days=back)
        if day < epoch:
            continue
        suffix = day.strftime("%Y%m%d")
        base = (day - epoch).days * 86400
        for state in states:
            for k in range(per_day):
                session += 1
                user, uid = f"g{session}", f"S{session}"
                t = base + 3600 * (k + 1) + rng.randint(0, 600)
                medium, source = MEDIUMS[rng.randrange(len(MEDIUMS))]
                sid = {"ga_session_id": session}
                sess = dict(sid)
                if medium:
                    sess |= {"medium": medium, "source": source}
                url_state = state
                out.append(_event(suffix, t, "session_start", user, **sess))
                out.append(
                    _event(suffix, t, "page_view", user, **sid,
                           page_location=f"{SITE}/{url_state}/step-1")
                )  # fmt: skip
                st = {**sid, "screener_state": state, "screener_uid": uid}
                out.append(_event(suffix, t + 1, "screener_form_start", user, **sid,
                                  screener_state=state))  # fmt: skip
                steps = CESN_STEPS if state == "cesn" else STEPS
                reached = rng.randint(1, len(steps))
                for i, step in enumerate(steps[:reached]):
                    at = t + 2 + 3 * i
                    out.append(_event(suffix, at, "screener_form_step", user, **st,
                                      screener_step_name=step, screener_step_number=i + 1,
                                      step_action="view"))  # fmt: skip
                    if rng.random() < 0.2:
                        out.append(_event(suffix, at + 1, "screener_form_error", user, **st,
                                          screener_step_name=step,
                                          form_error_reason="required"))  # fmt: skip
                    if rng.random() < 0.1:
                        out.append(_event(suffix, at + 1, "screener_form_back", user, **st,
                                          screener_step_name=step))  # fmt: skip
                    out.append(_event(suffix, at + 2, "screener_form_step", user, **st,
                                      screener_step_name=step, screener_step_number=i + 1,
                                      step_action="complete"))  # fmt: skip
                if reached < len(steps):
                    continue
                done = t + 40 + rng.randint(0, 300)
                out.append(_event(suffix, done, "screener_form_complete", user, **st))
                out.append(
                    _event(suffix, done, "page_view", user, **sid,
                           page_location=f"{SITE}/{url_state}/results/benefits")
                )  # fmt: skip
                out.append(_event(suffix, done + 1, "screener_results_loaded", user, **st))
                if rng.random() < 0.6:
                    out.append(_event(suffix, done + 5, "screener_program_more_info", user, **st,
                                      program_id=rng.randint(1, 12)))  # fmt: skip
                    if rng.random() < 0.5:
                        out.append(_event(suffix, done + 9, "screener_apply_click", user, **st))
                        out.append(_event(suffix, done + 10, "outbound_link", user, **sid,
                                          link_url="https://apply.example.gov",
                                          link_domain="apply.example.gov",
                                          outbound="true"))  # fmt: skip
    return out
