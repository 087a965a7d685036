"""Deterministic, scalable sample data shaped like the Django `public` tables dbt reads.

    python -m mfb_infra.sample_data --dsn postgresql://... --screens 100000 --seed 42
    python -m mfb_infra.sample_data --dsn ... --append-fraction 0.01   # ~1 % new + late updates

Column names and types follow the Django models (ids/FKs bigint, DateTimeField = timestamptz,
CharField(n) = varchar(n), DecimalField(10,2) = numeric(10,2)). Foreign-key *indexes* are created
(Django creates them); FK constraints are not, so a bulk load of 1M screens stays fast.

The 8 tenants get a skewed share of screens (co, nc and tx are the largest), dates spread over
the two years before the end date (`end`: midnight UTC of today unless given, so the
dashboards' recent windows have rows; same seed and end, same rows), and NULLs where the app
leaves them (incomplete screens have no submission date, `is_test_data` is often NULL, UTM
fields are mostly NULL, ...).

Incremental contract exercised by `--append-fraction`: new screens are added after the current
maximum timestamp, and a few existing screens change the way Django changes them: an eligibility
recalculation adds a newer snapshot, an incomplete screen gets completed (submission_date set),
a re-submitted household replaces its members/income (submission_date bumped) and a screen is
flagged as test data (submission_date bumped). Those two timestamps are what dbt watches.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


def default_end() -> datetime:
    """Midnight UTC of today: the newest sample screen is from yesterday."""
    now = datetime.now(UTC)
    return datetime(now.year, now.month, now.day, tzinfo=UTC)


SPAN_DAYS = 730
CHUNK_SCREENS = 50_000

# (slug, white_label_id, display name, share of screens)
TENANTS: tuple[tuple[str, int, str, float], ...] = (
    ("co", 1, "Colorado", 0.31),
    ("nc", 5, "North Carolina", 0.24),
    ("tx", 40, "Texas", 0.17),
    ("il", 39, "Illinois", 0.08),
    ("ma", 38, "Massachusetts", 0.07),
    ("wa", 41, "Washington", 0.06),
    ("cesn", 4, "Colorado Energy Savings Navigator", 0.045),
    ("co_tax_calculator", 3, "Colorado Tax Calculator", 0.025),
)
CESN_ID = 4

PROGRAMS: tuple[tuple[str, str, bool], ...] = (
    # (slug suffix, English name, is tax credit)
    ("snap", "Supplemental Nutrition Assistance Program", False),
    ("wic", "Women, Infants and Children", False),
    ("medicaid", "Medicaid", False),
    ("tanf", "Temporary Assistance for Needy Families", False),
    ("lifeline", "Lifeline", False),
    ("liheap", "Low-Income Home Energy Assistance", False),
    ("ssi", "Supplemental Security Income", False),
    ("nslp", "School Meals", False),
    ("upk", "Universal Preschool", False),
    ("chp", "Child Health Plan Plus", False),
    ("eitc", "Earned Income Tax Credit", True),
    ("ctc", "Child Tax Credit", True),
    ("state_eitc", "State Earned Income Tax Credit", True),
)
REFERRERS: tuple[tuple[str, str, bool], ...] = (
    ("211", "2-1-1", True),
    ("foodbank", "Community Food Bank", True),
    ("library", "Public Library", True),
    ("friend", "Friend", False),
    ("google", "Google", False),
)
TENANT_REFERRERS: dict[int, tuple[tuple[str, str, bool], ...]] = {
    1: (("cudenver", "CU Denver", True),),
    40: (("cpal", "Child Poverty Action Lab (CPAL)", True),),
}
COUNTIES = (
    "Denver",
    "Adams",
    "Boulder",
    "Wake",
    "Durham",
    "Harris",
    "Dallas",
    "Cook",
    "King",
    "Suffolk",
    "Jefferson",
    "Arapahoe",
    "El Paso",
    "Mecklenburg",
    "Travis",
)
LANGS = (
    ("en-us",) * 12
    + ("es",) * 4
    + (
        "vi",
        "fr",
        "ar",
        "zh",
        "zh-hans",
        "ru",
        "so",
        "am",
        "ne",
        "pt-br",
        "ht",
        "tl",
    )
)
RELATIONSHIPS = (
    "child",
    "spouse",
    "domesticPartner",
    "parent",
    "sibling",
    "grandchild",
    "fosterChild",
    "other",
)
INCOME_TYPES = (
    ("wages", "job"),
    ("selfEmployment", "job"),
    ("sSDisability", "benefit"),
    ("sSRetirement", "benefit"),
    ("unemployment", "benefit"),
    ("childSupport", "support"),
    ("pension", "retirement"),
)
FREQUENCIES = ("monthly", "monthly", "biweekly", "weekly", "yearly", "hourly", "semimonthly")
EXPENSE_TYPES = (
    "rent",
    "mortgage",
    "childCare",
    "medical",
    "heating",
    "telephone",
    "childSupport",
    "dependentCare",
)
HOUSING = ("renting", "owner", "stayingWithFriend", "hotel", "shelter", "preferNotToSay")
HAS_BENEFITS = ("true", "false", "preferNotToAnswer", "im_not_sure")
# Test screens (the whole referral_source, any case) and real sources that merely contain "test".
TEST_SOURCES = ("testOrProspect", "stagingTest", "test", "TEST", "StagingTest")
NEAR_TEST_SOURCES = ("Contest", "Protestant Church", " test", "Latest news")
NEEDS = (
    "needs_baby_supplies",
    "needs_child_dev_help",
    "needs_food",
    "needs_funeral_help",
    "needs_housing_help",
    "needs_mental_health_help",
    "needs_family_planning_help",
    "needs_dental_care",
    "needs_job_resources",
    "needs_legal_services",
    "needs_college_savings",
    "needs_veteran_services",
    "needs_disability_resources",
    "needs_aging_resources",
    "needs_homeless_services",
    "needs_free_low_cost_medical_care",
    "needs_transportation",
    "needs_medical_expenses_and_debt",
)
MEMBER_FLAGS = (
    "student",
    "student_full_time",
    "pregnant",
    "unemployed",
    "worked_in_last_18_mos",
    "visually_impaired",
    "disabled",
    "long_term_disability",
    "veteran",
    "medicaid",
    "disability_medicaid",
    "has_income",
    "has_expenses",
    "is_care_worker",
    "student_job_training_program",
    "student_has_work_study",
    "student_works_20_plus_hrs",
)
ENERGY_FLAGS = (
    "electricity_is_disconnected",
    "has_past_due_energy_bills",
    "has_old_car",
    "needs_water_heater",
    "needs_hvac",
    "needs_stove",
    "needs_dryer",
)

SCREEN_COLUMNS = (
    "id",
    "uuid",
    "white_label_id",
    "user_id",
    "external_id",
    "path",
    "alternate_path",
    "completed",
    "is_test",
    "is_test_data",
    "is_verified",
    "start_date",
    "submission_date",
    "agree_to_tos",
    "is_13_or_older",
    "referrer_code",
    "referral_source",
    "utm_id",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "zipcode",
    "county",
    "household_size",
    "household_assets",
    "housing_situation",
    "last_tax_filing_year",
    "has_benefits",
    "request_language_code",
    "last_email_request_date",
    *NEEDS,
)
MEMBER_COLUMNS = (
    "id",
    "screen_id",
    "frontend_id",
    "relationship",
    "age",
    "birth_year_month",
    *MEMBER_FLAGS,
)
INCOME_COLUMNS = (
    "id",
    "screen_id",
    "household_member_id",
    "category",
    "type",
    "amount",
    "frequency",
    "hours_worked",
)
EXPENSE_COLUMNS = ("id", "screen_id", "household_member_id", "type", "amount", "frequency")
SNAPSHOT_COLUMNS = ("id", "screen_id", "submission_date", "is_batch", "had_error")
PROGRAM_SNAPSHOT_COLUMNS = (
    "id",
    "eligibility_snapshot_id",
    "name",
    "name_abbreviated",
    "value_type",
    "estimated_value",
    "new",
    "eligible",
)
CURRENT_BENEFIT_COLUMNS = ("id", "screen_id", "program_id")
ENERGY_COLUMNS = (
    "id",
    "screen_id",
    "is_home_owner",
    "is_renter",
    "electric_provider",
    "electric_provider_name",
    "gas_provider",
    "gas_provider_name",
    *ENERGY_FLAGS,
)

_bool = "bool"
DDL = f"""
CREATE TABLE IF NOT EXISTS public.screener_whitelabel (
    id bigint PRIMARY KEY, name varchar(120) NOT NULL, code varchar(32) NOT NULL,
    state_code varchar(8), cms_method varchar(32), feature_flags jsonb NOT NULL DEFAULT '{{}}');
CREATE TABLE IF NOT EXISTS public.translations_translation (
    id bigint PRIMARY KEY, label varchar(128) NOT NULL UNIQUE,
    active bool NOT NULL DEFAULT true, no_auto bool NOT NULL DEFAULT false);
CREATE TABLE IF NOT EXISTS public.translations_translation_translation (
    id bigint PRIMARY KEY, language_code varchar(15) NOT NULL, text text NOT NULL,
    master_id bigint, UNIQUE (language_code, master_id));
CREATE TABLE IF NOT EXISTS public.programs_programcategory (
    id bigint PRIMARY KEY, white_label_id bigint NOT NULL, external_name varchar(120),
    tax_category bool NOT NULL DEFAULT false);
CREATE TABLE IF NOT EXISTS public.programs_program (
    id bigint PRIMARY KEY, white_label_id bigint NOT NULL, name_abbreviated varchar(120) NOT NULL,
    name_id bigint NOT NULL, category_id bigint, active bool NOT NULL DEFAULT true);
CREATE TABLE IF NOT EXISTS public.programs_referrer (
    id bigint PRIMARY KEY, white_label_id bigint NOT NULL, referrer_code varchar(64) NOT NULL,
    name varchar(255) NOT NULL, show_in_dropdown bool NOT NULL DEFAULT true,
    is_partner bool NOT NULL DEFAULT true, UNIQUE (white_label_id, referrer_code));
CREATE TABLE IF NOT EXISTS public.screener_screen (
    id bigint PRIMARY KEY, uuid uuid NOT NULL, white_label_id bigint NOT NULL, user_id bigint,
    external_id varchar(120), path varchar(60), alternate_path varchar(60),
    completed bool NOT NULL, is_test bool NOT NULL DEFAULT false, is_test_data bool,
    is_verified bool NOT NULL DEFAULT false, start_date timestamptz, submission_date timestamptz,
    agree_to_tos bool, is_13_or_older bool, referrer_code varchar(320),
    referral_source varchar(320), utm_id varchar(64), utm_source varchar(64),
    utm_medium varchar(64), utm_campaign varchar(128), utm_content varchar(128),
    utm_term varchar(128), zipcode varchar(5), county varchar(120), household_size integer,
    household_assets numeric(10,2), housing_situation varchar(30),
    last_tax_filing_year varchar(120), has_benefits varchar(32) DEFAULT 'preferNotToAnswer',
    request_language_code varchar(12), last_email_request_date timestamptz,
    {", ".join(f"{n} {_bool}" for n in NEEDS)});
CREATE TABLE IF NOT EXISTS public.screener_householdmember (
    id bigint PRIMARY KEY, screen_id bigint NOT NULL, frontend_id uuid,
    relationship varchar(30), age integer CHECK (age >= 0), birth_year_month date,
    {", ".join(f"{n} {_bool}" for n in MEMBER_FLAGS)});
CREATE TABLE IF NOT EXISTS public.screener_incomestream (
    id bigint PRIMARY KEY, screen_id bigint NOT NULL, household_member_id bigint NOT NULL,
    category varchar(30), type varchar(30) NOT NULL, amount numeric(10,2) NOT NULL,
    frequency varchar(30) NOT NULL, hours_worked integer);
CREATE TABLE IF NOT EXISTS public.screener_expense (
    id bigint PRIMARY KEY, screen_id bigint NOT NULL, household_member_id bigint,
    type varchar(30) NOT NULL, amount numeric(10,2) NOT NULL, frequency varchar(30) NOT NULL);
CREATE TABLE IF NOT EXISTS public.screener_eligibilitysnapshot (
    id bigint PRIMARY KEY, screen_id bigint NOT NULL, submission_date timestamptz NOT NULL,
    is_batch bool NOT NULL DEFAULT false, had_error bool NOT NULL DEFAULT false);
CREATE TABLE IF NOT EXISTS public.screener_programeligibilitysnapshot (
    id bigint PRIMARY KEY, eligibility_snapshot_id bigint NOT NULL, name varchar(320),
    name_abbreviated varchar(120) NOT NULL, value_type varchar(120),
    estimated_value numeric(10,2) NOT NULL, estimated_delivery_time text,
    estimated_application_time text, new bool NOT NULL DEFAULT false, eligible bool NOT NULL,
    failed_tests jsonb, passed_tests jsonb);
CREATE TABLE IF NOT EXISTS public.screener_current_benefits (
    id bigint PRIMARY KEY, screen_id bigint NOT NULL, program_id bigint NOT NULL,
    UNIQUE (screen_id, program_id));
CREATE TABLE IF NOT EXISTS public.screener_energycalculatorscreen (
    id bigint PRIMARY KEY, screen_id bigint NOT NULL UNIQUE, is_home_owner bool, is_renter bool,
    electric_provider varchar(200), electric_provider_name varchar(200),
    gas_provider varchar(200), gas_provider_name varchar(200),
    {", ".join(f"{n} {_bool}" for n in ENERGY_FLAGS)});
"""
# Django's ForeignKey indexes, created after the bulk load.
INDEXES = (
    ("screener_screen", "white_label_id"),
    ("screener_householdmember", "screen_id"),
    ("screener_incomestream", "screen_id"),
    ("screener_incomestream", "household_member_id"),
    ("screener_expense", "screen_id"),
    ("screener_eligibilitysnapshot", "screen_id"),
    ("screener_programeligibilitysnapshot", "eligibility_snapshot_id"),
    ("screener_current_benefits", "program_id"),
    ("programs_program", "white_label_id"),
    ("programs_referrer", "white_label_id"),
)


@dataclass
class _Ids:
    """Next free id per table (continues after existing rows on append)."""

    next: dict[str, int] = field(default_factory=dict)

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


@dataclass
class _Catalog:
    """Per-tenant program ids/slugs and referrer codes, read back from the database."""

    programs: dict[int, list[tuple[int, str]]]
    referrers: dict[int, list[str]]


@dataclass
class _Batch:
    rows: dict[str, list[tuple]] = field(default_factory=dict)

    def add(self, table: str, row: tuple) -> None:
        self.rows.setdefault(table, []).append(row)


TABLE_COLUMNS: dict[str, Sequence[str]] = {
    "screener_screen": SCREEN_COLUMNS,
    "screener_householdmember": MEMBER_COLUMNS,
    "screener_incomestream": INCOME_COLUMNS,
    "screener_expense": EXPENSE_COLUMNS,
    "screener_eligibilitysnapshot": SNAPSHOT_COLUMNS,
    "screener_programeligibilitysnapshot": PROGRAM_SNAPSHOT_COLUMNS,
    "screener_current_benefits": CURRENT_BENEFIT_COLUMNS,
    "screener_energycalculatorscreen": ENERGY_COLUMNS,
}


class _Generator:
    """Makes the rows of one screen (and its children) from a seeded RNG."""

    def __init__(self, rng: random.Random, ids: _Ids, catalog: _Catalog):
        self.rng = rng
        self.ids = ids
        self.catalog = catalog
        self.tenant_ids = [t[1] for t in TENANTS]
        self.tenant_weights = [t[3] for t in TENANTS]

    def _flag(self, p_true: float, p_null: float = 0.0) -> bool | None:
        r = self.rng.random()
        if r < p_null:
            return None
        return r < p_null + p_true

    def _money(self, low: float, high: float) -> str:
        return f"{self.rng.uniform(low, high):.2f}"

    def screen(self, batch: _Batch, start: datetime, *, completed: bool | None = None) -> int:
        rng = self.rng
        sid = self.ids.take("screener_screen")
        wl = rng.choices(self.tenant_ids, self.tenant_weights)[0]
        if completed is None:
            completed = rng.random() < 0.86
        submitted = start + timedelta(seconds=rng.randint(180, 3600)) if completed else None
        size = rng.choices((1, 2, 3, 4, 5, 6, 7, 8, 9), (28, 26, 18, 14, 7, 4, 1.5, 1, 0.5))[0]
        referrer_code = referral_source = None
        r = rng.random()
        codes = self.catalog.referrers.get(wl, [])
        if r < 0.25 and codes:
            referrer_code = rng.choice([*codes, "unknowncode"])
        elif r < 0.65 and codes:
            referral_source = rng.choice(codes)
        elif r < 0.66:
            referral_source = rng.choice(TEST_SOURCES)
        elif r < 0.68:
            referral_source = rng.choice(NEAR_TEST_SOURCES)
        elif r < 0.70:
            referral_source = ""
        has_utm = (wl == 5 and rng.random() < 0.4) or rng.random() < 0.05
        needs = [
            rng.random() < p
            for p in (
                0.05,
                0.04,
                0.2,
                0.01,
                0.12,
                0.08,
                0.03,
                0.1,
                0.09,
                0.04,
                0.03,
                0.02,
                0.03,
                0.03,
                0.02,
                0.08,
                0.06,
                0.05,
            )
        ]
        is_test_data = rng.choices((None, False, True), (8, 91, 1))[0]
        batch.add(
            "screener_screen",
            (
                sid,
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                wl,
                rng.randint(1, 500_000) if rng.random() < 0.3 else None,
                None,
                "default" if rng.random() < 0.9 else "energy",
                None,
                completed,
                rng.random() < 0.01,
                is_test_data,
                rng.random() < 0.1,
                start,
                submitted,
                True,
                True if rng.random() < 0.97 else None,
                referrer_code,
                referral_source,
                None,
                "facebook" if has_utm else None,
                "social" if has_utm else None,
                rng.choice(("spring", "fall", "tax")) if has_utm else None,
                None,
                None,
                f"{rng.randint(10000, 99999)}" if rng.random() < 0.97 else None,
                rng.choice(COUNTIES) if rng.random() < 0.9 else rng.choice((None, "")),
                size,
                self._money(0, 60000) if rng.random() < 0.85 else None,
                rng.choice(HOUSING) if rng.random() < 0.6 else None,
                rng.choice(("2024", "2025", "notFiled")) if rng.random() < 0.5 else None,
                rng.choice(HAS_BENEFITS),
                rng.choice(LANGS),
                None,
                *needs,
            ),
        )
        self.household(batch, sid, wl, size, start)
        if completed:
            for n in range(rng.choices((1, 2, 3), (72, 23, 5))[0]):
                self.snapshot(batch, sid, wl, submitted + timedelta(minutes=n * 37))
            if rng.random() < 0.2 and self.catalog.programs.get(wl):
                picks = rng.sample(self.catalog.programs[wl], k=min(3, rng.randint(1, 3)))
                for program_id, _slug in picks:
                    row = (self.ids.take("screener_current_benefits"), sid, program_id)
                    batch.add("screener_current_benefits", row)
        if wl == CESN_ID:
            owner = rng.random() < 0.55
            flags = [self._flag(0.3, 0.1) for _ in ENERGY_FLAGS]
            batch.add(
                "screener_energycalculatorscreen",
                (
                    self.ids.take("screener_energycalculatorscreen"),
                    sid,
                    owner,
                    not owner,
                    *rng.choice(
                        (
                            ("xcel", "Xcel Energy"),
                            ("bhe", "Black Hills Energy"),
                            ("lpea", None),  # a code without a display name
                            (None, None),
                        )
                    ),
                    *rng.choice((("xcel", "Xcel Energy"), ("atmos", "Atmos Energy"), (None, None))),
                    *flags,
                ),
            )
        return sid

    def household(self, batch: _Batch, sid: int, wl: int, size: int, start: datetime) -> None:
        rng = self.rng
        for n in range(size):
            mid = self.ids.take("screener_householdmember")
            age = (
                rng.randint(18, 88)
                if n == 0
                else rng.choice((rng.randint(0, 17), rng.randint(18, 90)))
            )
            flags = [self._flag(0.12, 0.25) for _ in MEMBER_FLAGS]
            birth = start.date().replace(day=1) - timedelta(days=365 * age)
            batch.add(
                "screener_householdmember",
                (
                    mid,
                    sid,
                    str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "headOfHousehold" if n == 0 else rng.choice(RELATIONSHIPS),
                    age,
                    birth.replace(day=1) if rng.random() < 0.8 else None,
                    *flags,
                ),
            )
            if age >= 16 and rng.random() < 0.6:
                for _ in range(rng.choices((1, 2), (85, 15))[0]):
                    itype, category = rng.choice(INCOME_TYPES)
                    freq = rng.choice(FREQUENCIES)
                    amount = self._money(10, 40) if freq == "hourly" else self._money(50, 4000)
                    batch.add(
                        "screener_incomestream",
                        (
                            self.ids.take("screener_incomestream"),
                            sid,
                            mid,
                            category,
                            itype,
                            amount,
                            freq,
                            rng.randint(10, 40) if freq == "hourly" else None,
                        ),
                    )
        for _ in range(rng.choices((0, 1, 2, 3), (30, 35, 25, 10))[0]):
            batch.add(
                "screener_expense",
                (
                    self.ids.take("screener_expense"),
                    sid,
                    None,
                    rng.choice(EXPENSE_TYPES),
                    self._money(20, 2500),
                    rng.choice(("monthly", "monthly", "yearly", "weekly")),
                ),
            )

    def snapshot(self, batch: _Batch, sid: int, wl: int, at: datetime) -> None:
        rng = self.rng
        snap_id = self.ids.take("screener_eligibilitysnapshot")
        batch.add(
            "screener_eligibilitysnapshot",
            (snap_id, sid, at, rng.random() < 0.02, rng.random() < 0.01),
        )
        programs = self.catalog.programs.get(wl, [])
        if not programs:
            return
        for _program_id, slug in rng.sample(programs, k=rng.randint(1, min(7, len(programs)))):
            eligible = rng.random() < 0.65
            value = "0.00" if rng.random() < 0.1 else self._money(100, 9000)
            batch.add(
                "screener_programeligibilitysnapshot",
                (
                    self.ids.take("screener_programeligibilitysnapshot"),
                    snap_id,
                    slug.replace("_", " ").title(),
                    slug,
                    "estimated_annual_amount",
                    value,
                    rng.random() < 0.05,
                    eligible,
                ),
            )


def _copy(conn, batch: _Batch) -> dict[str, int]:
    counts: dict[str, int] = {}
    with conn.cursor() as cur:
        for table, rows in batch.rows.items():
            cols = ", ".join(TABLE_COLUMNS[table])
            with cur.copy(f"COPY public.{table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            counts[table] = len(rows)
    return counts


def _merge_counts(total: dict[str, int], add: dict[str, int]) -> None:
    for key, value in add.items():
        total[key] = total.get(key, 0) + value


def _seed_reference_tables(conn) -> None:
    """White labels, programs (+ categories and en-us names) and referrers; idempotent."""
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM public.screener_whitelabel")
        if cur.fetchone()[0]:
            return
        tr_id = cat_id = prog_id = ref_id = 0
        for slug, wl, name, _share in TENANTS:
            cur.execute(
                "INSERT INTO public.screener_whitelabel (id, name, code, state_code, cms_method)"
                " VALUES (%s, %s, %s, %s, 'default')",
                (wl, name, slug, slug[:2] if slug != "cesn" else "co"),
            )
            categories = {}
            for tax in (False, True):
                cat_id += 1
                categories[tax] = cat_id
                cur.execute(
                    "INSERT INTO public.programs_programcategory VALUES (%s, %s, %s, %s)",
                    (cat_id, wl, "tax_credit" if tax else "benefits", tax),
                )
            for suffix, english, tax in PROGRAMS:
                program_slug = suffix if not suffix.startswith("state_") else f"{slug}_{suffix}"
                tr_id += 1
                prog_id += 1
                cur.execute(
                    "INSERT INTO public.translations_translation (id, label) VALUES (%s, %s)",
                    (tr_id, f"program.{program_slug}_{wl}-name"),
                )
                for lang, text in (("en-us", english), ("es", f"{english} (es)")):
                    cur.execute(
                        "INSERT INTO public.translations_translation_translation"
                        " VALUES (%s, %s, %s, %s)",
                        (tr_id * 2 + (lang == "es"), lang, text, tr_id),
                    )
                cur.execute(
                    "INSERT INTO public.programs_program VALUES (%s, %s, %s, %s, %s, true)",
                    (prog_id, wl, program_slug, tr_id, categories[tax]),
                )
            for code, partner, is_partner in REFERRERS + TENANT_REFERRERS.get(wl, ()):
                ref_id += 1
                cur.execute(
                    "INSERT INTO public.programs_referrer VALUES (%s, %s, %s, %s, true, %s)",
                    (ref_id, wl, code, partner, is_partner),
                )


def _read_catalog(conn) -> _Catalog:
    programs: dict[int, list[tuple[int, str]]] = {}
    referrers: dict[int, list[str]] = {}
    for pid, wl, slug in conn.execute(
        "SELECT id, white_label_id, name_abbreviated FROM public.programs_program ORDER BY id"
    ):
        programs.setdefault(wl, []).append((pid, slug))
    for wl, code in conn.execute(
        "SELECT white_label_id, referrer_code FROM public.programs_referrer ORDER BY id"
    ):
        referrers.setdefault(wl, []).append(code)
    return _Catalog(programs=programs, referrers=referrers)


def _read_ids(conn) -> _Ids:
    ids = _Ids()
    for table in TABLE_COLUMNS:
        ids.next[table] = conn.execute(
            f"SELECT coalesce(max(id), 0) + 1 FROM public.{table}"
        ).fetchone()[0]
    return ids


def _create_indexes(conn) -> None:
    for table, column in INDEXES:
        conn.execute(
            f"CREATE INDEX IF NOT EXISTS {table}_{column}_idx ON public.{table} ({column})"
        )
    for table in TABLE_COLUMNS:
        conn.execute(f"ANALYZE public.{table}")


def _random_start(rng: random.Random, end: datetime, span_days: float) -> datetime:
    # usage grows over time: more screens in recent months
    frac = rng.random() ** 0.7
    return end - timedelta(seconds=(1 - frac) * span_days * 86400)


def _generate(conn, gen: _Generator, count: int, start_of, *, chunk: int) -> dict[str, int]:
    totals: dict[str, int] = {}
    done = 0
    while done < count:
        batch = _Batch()
        for _ in range(min(chunk, count - done)):
            gen.screen(batch, start_of())
        _merge_counts(totals, _copy(conn, batch))
        done += min(chunk, count - done)
    return totals


def _apply_late_updates(
    conn, gen: _Generator, rng: random.Random, n_new: int, now: datetime
) -> dict[str, int]:
    """Change existing screens the way Django does; every change moves a watched timestamp."""
    updates = {"late_snapshots": 0, "late_completions": 0, "resubmitted": 0, "flagged_test": 0}
    batch = _Batch()
    n = max(1, n_new // 5)
    completed = [
        r[0]
        for r in conn.execute("SELECT id FROM public.screener_screen WHERE completed ORDER BY id")
    ]
    incomplete = [
        r[0]
        for r in conn.execute(
            "SELECT id FROM public.screener_screen WHERE NOT completed ORDER BY id"
        )
    ]
    wl_of = dict(conn.execute("SELECT id, white_label_id FROM public.screener_screen"))

    def at() -> datetime:
        return now + timedelta(seconds=rng.randint(1, 3600))

    for sid in rng.sample(completed, k=min(n, len(completed))):
        gen.snapshot(batch, sid, wl_of[sid], at())
        updates["late_snapshots"] += 1
    for sid in rng.sample(incomplete, k=min(n, len(incomplete))):
        ts = at()
        conn.execute(
            "UPDATE public.screener_screen SET completed = true, submission_date = %s"
            " WHERE id = %s",
            (ts, sid),
        )
        gen.snapshot(batch, sid, wl_of[sid], ts)
        updates["late_completions"] += 1
    for sid in rng.sample(completed, k=min(max(1, n // 4), len(completed))):
        # re-submitted household: members (and their income) replaced, one member fewer
        conn.execute("DELETE FROM public.screener_incomestream WHERE screen_id = %s", (sid,))
        conn.execute(
            "DELETE FROM public.screener_householdmember WHERE screen_id = %s "
            "AND id = (SELECT max(id) FROM public.screener_householdmember "
            "WHERE screen_id = %s)",
            (sid, sid),
        )
        conn.execute("DELETE FROM public.screener_expense WHERE screen_id = %s", (sid,))
        ts = at()
        conn.execute(
            "UPDATE public.screener_screen SET submission_date = %s,"
            " household_size = greatest(household_size - 1, 1) WHERE id = %s",
            (ts, sid),
        )
        gen.snapshot(batch, sid, wl_of[sid], ts)
        updates["resubmitted"] += 1
    for sid in rng.sample(completed, k=min(max(1, n // 10), len(completed))):
        conn.execute(
            "UPDATE public.screener_screen SET is_test_data = true, submission_date = %s"
            " WHERE id = %s",
            (at(), sid),
        )
        updates["flagged_test"] += 1
    _merge_counts(updates, _copy(conn, batch))
    return updates


MARKER = "mfb sample data"


def _refuse_foreign_data(conn) -> None:
    """Never write into a database whose screens this generator did not make (a real Django
    database): its tables would get fake white labels, screens and late updates."""
    table = conn.execute("SELECT to_regclass('public.screener_screen')").fetchone()[0]
    if table is None:
        return
    has_rows = conn.execute("SELECT EXISTS (SELECT 1 FROM public.screener_screen)").fetchone()[0]
    marker = conn.execute(
        "SELECT obj_description('public.screener_screen'::regclass, 'pg_class')"
    ).fetchone()[0]
    if has_rows and not (marker or "").startswith(MARKER):
        raise ValueError(
            "public.screener_screen holds screens this generator did not load (no sample-data "
            "marker): refusing to write sample rows into what looks like a real database; "
            "point --dsn at an empty database"
        )


def load_sample_data(
    dsn: str,
    screens: int,
    seed: int = 42,
    *,
    new_fraction: float | None = None,
    end: datetime | None = None,
) -> dict:
    """Create the Django-shaped tables if missing and load `screens` screens (with children).

    With `new_fraction`, instead add that fraction of the existing screen count as new screens
    (dated after everything already loaded) plus late updates to existing screens.
    Screens start within the two years before `end` (default: `default_end()`).
    Returns row counts per table and the elapsed seconds.
    """
    import psycopg

    if screens < 0:
        raise ValueError(f"screens must be >= 0, got {screens}")
    if new_fraction is not None and not 0 < new_fraction <= 1:
        raise ValueError(f"new_fraction must be in (0, 1], got {new_fraction}")
    t0 = time.monotonic()
    with psycopg.connect(dsn) as conn:
        _refuse_foreign_data(conn)
        conn.execute(DDL)
        _seed_reference_tables(conn)
        catalog = _read_catalog(conn)
        ids = _read_ids(conn)
        existing = ids.next["screener_screen"] - 1
        result: dict = {"seed": seed}
        if new_fraction is None:
            if existing:
                raise ValueError(
                    f"public.screener_screen already holds {existing} screens; load into an "
                    "empty database, or pass new_fraction (--append-fraction) to add rows"
                )
            rng = random.Random(seed)
            gen = _Generator(rng, ids, catalog)
            result["rows"] = _generate(
                conn,
                gen,
                screens,
                lambda: _random_start(rng, end or default_end(), SPAN_DAYS),
                chunk=CHUNK_SCREENS,
            )
            conn.execute(f"COMMENT ON TABLE public.screener_screen IS '{MARKER} (seed {seed})'")
        else:
            if not existing:
                raise ValueError("no screens to append to: run a full load first")
            rng = random.Random(f"{seed}:{existing}")
            gen = _Generator(rng, ids, catalog)
            last = conn.execute(
                "SELECT greatest((SELECT max(start_date) FROM public.screener_screen),"
                " (SELECT max(submission_date) FROM public.screener_screen),"
                " (SELECT max(submission_date) FROM public.screener_eligibilitysnapshot))"
            ).fetchone()[0]
            now = last + timedelta(days=1)
            n_new = max(1, round(existing * new_fraction))
            result["rows"] = _generate(
                conn,
                gen,
                n_new,
                lambda: now + timedelta(seconds=rng.randint(0, 86400)),
                chunk=CHUNK_SCREENS,
            )
            result["updates"] = _apply_late_updates(conn, gen, rng, n_new, now + timedelta(days=1))
        conn.commit()
        _create_indexes(conn)
        conn.commit()
    result["seconds"] = round(time.monotonic() - t0, 2)
    return result


def _parse(argv: Iterable[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="mfb_infra.sample_data", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--dsn", required=True, help="postgresql://user:pass@host:port/db")
    parser.add_argument(
        "--screens", type=int, default=10_000, help="screens to load (default 10000)"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--append-fraction",
        type=float,
        default=None,
        help="add this fraction of new screens + late updates to an existing load",
    )
    parser.add_argument(
        "--end",
        type=lambda v: datetime.strptime(v, "%Y-%m-%d").replace(tzinfo=UTC),
        default=None,
        help="screens fall in the two years before this date, YYYY-MM-DD (default: today)",
    )
    return parser.parse_args(list(argv) if argv is not None else None)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    try:
        result = load_sample_data(
            args.dsn, args.screens, args.seed, new_fraction=args.append_fraction, end=args.end
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for table, count in sorted(result["rows"].items()):
        print(f"{table:40s} {count:>10d}")
    for key, count in sorted(result.get("updates", {}).items()):
        print(f"update {key:33s} {count:>10d}")
    print(f"done in {result['seconds']} s (seed {result['seed']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
