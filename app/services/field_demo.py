"""Demo history of field work: households in every grid and about four months of visits,
follow-up calls and mediations, with Changchun's seasons (heating complaints peak Nov-Mar, wage
arrears before the Spring Festival). Bulk inserts (``unnest``), so seeding takes seconds.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import date, datetime, time, timedelta

from app import db
from app.domain import calendar
from app.domain import field as rules
from app.domain.forms import LOCAL_TZ
from app.services import demo

DAYS = 120
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
GIVEN = [
    "桂芳",
    "秀兰",
    "建国",
    "淑珍",
    "志强",
    "玉梅",
    "海燕",
    "国庆",
    "丽华",
    "德明",
    "春生",
    "凤霞",
]
STREETS = ["东盛路", "吉林大路", "荣光路", "东站街", "八里堡路", "远达大街", "长青路", "惠工路"]
TAGS = ["独居老人", "低保户", "残疾人", "退役军人", "留守儿童", "出租户", "重点关注"]

#: theme -> (dispute type, visit topics, summaries, weight by month 1..12)
THEMES = {
    "heating": (
        "heating",
        ["request", "dispute"],
        [
            "室温不达标，家里只有十五六度，老人受不了",
            "暖气不热，已多次找热力公司没人管",
            "供热费收了但楼顶户暖气片冰凉",
            "申请停热后仍被催缴取暖费",
        ],
        [9, 8, 8, 3, 0.3, 0.2, 0.2, 0.2, 0.5, 3, 10, 10],
    ),
    "property": (
        "property",
        ["request", "sanitation"],
        [
            "物业不作为，楼道垃圾堆积无人清理",
            "电梯经常停运，物业推诿维修费用",
            "小区停车收费不公示，居民意见大",
            "物业费上涨未经业主大会同意",
        ],
        [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3],
    ),
    "noise": (
        "noise",
        ["dispute"],
        [
            "楼上深夜装修噪音扰民，邻里发生口角",
            "广场舞音响声音过大影响休息",
            "楼下烧烤店夜间噪音和油烟",
            "邻居养狗夜里吠叫",
        ],
        [1, 1, 1.5, 2, 3, 3.5, 3.5, 3, 2.5, 2, 1.5, 1],
    ),
    "wages": (
        "wages",
        ["dispute", "request"],
        [
            "装修工程款被拖欠，农民工讨薪",
            "饭店停业后拖欠服务员工资两个月",
            "建筑工地包工头欠薪失联",
            "快递站点拖欠分拣员工资",
        ],
        [4, 4, 1.5, 1, 1, 1, 1, 1, 1, 1, 2, 4],
    ),
    "demolition": (
        "demolition",
        ["dispute", "policy"],
        ["棚改征收补偿标准有异议", "对回迁安置房面积计算不认可", "征收过程中临时安置费未按时发放"],
        [1, 1, 1, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1, 1, 1],
    ),
    "safety": (
        "neighbour",
        ["security", "fire"],
        [
            "楼道堆放杂物，存在消防隐患",
            "电动车在楼道充电，已劝导",
            "单元门禁损坏，外来人员随意进出",
        ],
        [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2],
    ),
    "family": (
        "family",
        ["dispute"],
        ["老人赡养问题兄弟间有矛盾", "夫妻因家务琐事争吵，邻居报告"],
        [1, 1.5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    ),
    "policy": (
        "other",
        ["policy", "suggestion"],
        ["宣传反诈知识，居民反映良好", "建议增设小区健身器材", "咨询医保缴费政策"],
        [1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5],
    ),
}


def _theme(rng: random.Random, month: int) -> str:
    names = list(THEMES)
    return rng.choices(names, [THEMES[n][3][month - 1] for n in names])[0]


def _moment(rng: random.Random, day: date) -> datetime:
    return datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=LOCAL_TZ)


def _address(rng: random.Random, street: str) -> str:
    building, unit, floor = rng.randint(1, 999), rng.randint(1, 6), rng.randint(1, 7)
    return f"{street}{building}号{unit}单元{floor}0{rng.randint(1, 4)}"


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


async def _bulk(table: str, columns: dict[str, str], rows: list[tuple]) -> list[int]:
    """INSERT ... SELECT FROM unnest(arrays): one statement for all rows; returns ids in order."""
    if not rows:
        return []
    names = list(columns)
    arrays = [[r[i] for r in rows] for i in range(len(names))]
    selects = ", ".join(
        f"string_to_array(c{i}, '|')"
        if columns[n] == "split"
        else (f"c{i}::jsonb" if columns[n] == "jsonb" else f"c{i}")
        for i, n in enumerate(names)
    )
    types = ", ".join(
        "{}::text[]" if columns[n] in ("split", "jsonb") else f"{{}}::{columns[n]}[]" for n in names
    )
    cols = ", ".join(f"c{i}" for i in range(len(names)))
    result = await db.fetch(
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {selects}"
        f" FROM unnest({types}) WITH ORDINALITY AS t({cols}, n) ORDER BY n RETURNING id",
        *arrays,
    )
    return [r["id"] for r in result]


@demo.history_seeder(10)
async def seed_field_history(rng: random.Random) -> None:
    """Households, visits, calls, mediations and their tasks across the demo district."""
    today = calendar.today()
    grids = await db.fetch(
        "SELECT u.id, u.path, u.code, u.parent,"
        " (SELECT id FROM app_user WHERE unit = u.id AND role = 'grid_worker' ORDER BY id LIMIT 1)"
        " AS author FROM unit u WHERE u.tier = 'grid' ORDER BY u.id"
    )
    communities = {
        r["id"]: r
        for r in await db.fetch(
            "SELECT u.id, u.path, u.code, u.parent, (SELECT id FROM app_user WHERE unit = u.id"
            " ORDER BY id LIMIT 1) AS author FROM unit u WHERE u.tier = 'community'"
        )
    }
    streets = {
        r["id"]: r for r in await db.fetch("SELECT id, path, code FROM unit WHERE tier = 'street'")
    }
    now = datetime.now(LOCAL_TZ)
    async with db.transaction():
        household_rows = []
        for g in grids:
            street = rng.choice(STREETS)
            for _ in range(rng.randint(24, 40)):
                household_rows.append(
                    (
                        g["id"],
                        g["path"],
                        _address(rng, street),
                        _name(rng),
                        f"13{rng.randint(100000000, 999999999)}",
                        rng.randint(1, 6),
                        "|".join(rng.sample(TAGS, rng.choice([0, 0, 0, 1, 1, 2]))),
                        now,
                    )
                )
        household_ids = await _bulk(
            "household",
            {
                "unit": "int",
                "unit_path": "text",
                "address": "text",
                "head_name": "text",
                "head_phone": "text",
                "size": "int",
                "tags": "split",
                "created_at": "timestamptz",
            },
            household_rows,
        )
        by_grid: dict[int, list[tuple[int, str]]] = {}
        for hid, row in zip(household_ids, household_rows, strict=True):
            by_grid.setdefault(row[0], []).append((hid, row[2]))

        visit_rows, visit_meta = [], []
        for g in grids:
            if g["author"] is None:
                continue
            for _ in range(rng.randint(10, 22)):
                day = today - timedelta(days=int(rng.triangular(0, DAYS, 10)))
                theme = _theme(rng, day.month)
                _dtype, topics, summaries, _w = THEMES[theme]
                hid, address = rng.choice(by_grid[g["id"]])
                kind = rng.choices(["door", "reception", "away"], [70, 25, 5])[0]
                mood = rng.choices(["calm", "dissatisfied", "agitated"], [65, 28, 7])[0]
                resolved = rng.random() < 0.55
                due = (
                    day + timedelta(days=rng.randint(3, 14))
                    if not resolved and rng.random() < 0.5
                    else None
                )
                age = (today - day).days
                review = (
                    "reviewed"
                    if age > 7 and rng.random() < 0.8
                    else ("returned" if rng.random() < 0.04 else "pending")
                )
                moment = _moment(rng, day)
                visit_rows.append(
                    (
                        uuid.uuid4(),
                        g["author"],
                        g["id"],
                        g["path"],
                        kind,
                        moment,
                        hid if kind == "door" else None,
                        address,
                        _name(rng),
                        "|".join(topics),
                        rng.choice(summaries),
                        mood,
                        resolved,
                        mood == "agitated" or rng.random() < 0.1,
                        due,
                        review,
                        "请补充走访对象和处理结果"
                        if review == "returned"
                        else ("已阅" if review == "reviewed" else ""),
                        moment,
                        moment,
                    )
                )
                visit_meta.append((g, due))
        visit_ids = await _bulk(
            "visit",
            {
                "client_uuid": "uuid",
                "author": "int",
                "unit": "int",
                "unit_path": "text",
                "kind": "text",
                "visited_at": "timestamptz",
                "household": "int",
                "address": "text",
                "persons_met": "text",
                "topics": "split",
                "summary": "text",
                "mood": "text",
                "resolved_on_site": "bool",
                "reported_up": "bool",
                "follow_up_due": "date",
                "review_state": "text",
                "review_comment": "text",
                "created_at": "timestamptz",
                "updated_at": "timestamptz",
            },
            visit_rows,
        )

        task_rows, call_rows = [], []
        for vid, (g, due) in zip(visit_ids, visit_meta, strict=True):
            if due is None:
                continue
            answered = due < today and rng.random() < 0.8
            call_at = _moment(rng, min(due, today)) if answered else None
            task_rows.append(
                (
                    g["path"],
                    g["author"],
                    "visit",
                    vid,
                    "follow_up",
                    due,
                    call_at,
                    "call" if answered else None,
                )
            )
            if answered:
                call_rows.append(
                    (
                        uuid.uuid4(),
                        g["author"],
                        g["id"],
                        g["path"],
                        call_at,
                        "visit",
                        vid,
                        "reached",
                        rng.choices(["satisfied", "basically", "dissatisfied"], [60, 30, 10])[0],
                        "电话回访，问题已跟进",
                        "reviewed",
                        "",
                        call_at,
                        call_at,
                    )
                )
        for g in grids:
            for _ in range(rng.randint(0, 4)):
                at = _moment(rng, today - timedelta(days=rng.randint(0, DAYS)))
                outcome = rng.choices(["reached", "no_answer", "refused"], [75, 20, 5])[0]
                call_rows.append(
                    (
                        uuid.uuid4(),
                        g["author"],
                        g["id"],
                        g["path"],
                        at,
                        "household",
                        None,
                        outcome,
                        "basically" if outcome == "reached" else None,
                        "例行电话随访",
                        "pending",
                        "",
                        at,
                        at,
                    )
                )

        mediation_rows, archive_seq = [], {}
        for c in communities.values():
            if c["author"] is None:
                continue
            for _ in range(rng.randint(3, 9)):
                day = today - timedelta(days=rng.randint(0, DAYS))
                theme = _theme(rng, day.month)
                dtype, _topics, summaries, _w = THEMES[theme]
                outcome = rng.choices(list(rules.MEDIATION_OUTCOMES), [8, 45, 25, 8, 8, 6])[0]
                held = _moment(rng, day)
                closed = (
                    held + timedelta(days=rng.randint(0, 20)) if outcome != "in_progress" else None
                )
                if closed and closed.date() > today:
                    closed = now
                signed = closed.date() if outcome == "agreed_written" else None
                perf = (
                    closed.date() + timedelta(days=rng.randint(7, 30))
                    if outcome in rules.AGREED
                    else None
                )
                archive = None
                if closed:
                    key = (c["id"], closed.year)
                    archive_seq[key] = archive_seq.get(key, 0) + 1
                    archive = rules.archive_number(c["code"], closed.year, archive_seq[key])
                parties = [
                    {"name": _name(rng), "role": "applicant", "phone": ""},
                    {"name": _name(rng), "role": "respondent", "phone": ""},
                ]
                mediators = [
                    {
                        "name": _name(rng),
                        "kind": rng.choice(
                            ["people_mediator", "five_elders", "lawyer", "police", "grid_worker"]
                        ),
                    }
                ]
                mediation_rows.append(
                    (
                        uuid.uuid4(),
                        c["author"],
                        c["id"],
                        c["path"],
                        held,
                        dtype,
                        json.dumps(parties, ensure_ascii=False),
                        json.dumps(mediators, ensure_ascii=False),
                        "|".join(rng.sample(list(rules.METHODS), rng.randint(1, 3))),
                        rng.choice(summaries),
                        outcome,
                        "双方达成一致，按约定履行" if outcome in rules.AGREED else "",
                        "经调查核实" if outcome == "agreed_written" else "",
                        "双方各负相应责任" if outcome == "agreed_written" else "",
                        "自觉履行" if outcome == "agreed_written" else "",
                        perf,
                        signed,
                        closed,
                        archive,
                        "双方分歧较大，调解不成" if outcome == "failed" else "",
                        "reviewed" if closed and rng.random() < 0.7 else "pending",
                        "",
                        held,
                        held,
                    )
                )
        mediation_ids = await _bulk(
            "mediation",
            {
                "client_uuid": "uuid",
                "author": "int",
                "venue_unit": "int",
                "unit_path": "text",
                "held_at": "timestamptz",
                "dispute_type": "text",
                "parties": "jsonb",
                "mediators": "jsonb",
                "methods": "split",
                "summary": "text",
                "outcome": "text",
                "agreement_terms": "text",
                "facts": "text",
                "responsibilities": "text",
                "performance_method": "text",
                "performance_due": "date",
                "agreement_signed_on": "date",
                "closed_at": "timestamptz",
                "archive_no": "text",
                "terminated_note": "text",
                "review_state": "text",
                "review_comment": "text",
                "created_at": "timestamptz",
                "updated_at": "timestamptz",
            },
            mediation_rows,
        )
        linked = []
        for mid, row in zip(mediation_ids, mediation_rows, strict=True):
            c = communities[row[2]]
            for spec in rules.mediation_tasks(row[10], row[16], row[15]):
                done = spec.due < today and rng.random() < 0.75
                task_rows.append(
                    (
                        c["path"],
                        c["author"],
                        "mediation",
                        mid,
                        spec.kind,
                        spec.due,
                        _moment(rng, spec.due) if done else None,
                        "user" if done else None,
                    )
                )
            if row[10] == "escalated" and c["parent"] in streets:
                street = streets[c["parent"]]
                linked.append(
                    (
                        mid,
                        (
                            uuid.uuid4(),
                            row[1],
                            street["id"],
                            street["path"],
                            row[17],
                            row[5],
                            row[6],
                            "[]",
                            "",
                            row[9],
                            "in_progress",
                            mid,
                            "pending",
                            "",
                            row[17],
                            row[17],
                        ),
                    )
                )
        linked_ids = await _bulk(
            "mediation",
            {
                "client_uuid": "uuid",
                "author": "int",
                "venue_unit": "int",
                "unit_path": "text",
                "held_at": "timestamptz",
                "dispute_type": "text",
                "parties": "jsonb",
                "mediators": "jsonb",
                "methods": "split",
                "summary": "text",
                "outcome": "text",
                "escalated_from": "int",
                "review_state": "text",
                "review_comment": "text",
                "created_at": "timestamptz",
                "updated_at": "timestamptz",
            },
            [r for _m, r in linked],
        )
        if linked_ids:
            await db.fetch(
                "UPDATE mediation m SET escalated_to = l.id FROM mediation l"
                " WHERE l.escalated_from = m.id AND l.id = ANY({}::int[])",
                linked_ids,
            )
        await _bulk(
            "call",
            {
                "client_uuid": "uuid",
                "author": "int",
                "unit": "int",
                "unit_path": "text",
                "called_at": "timestamptz",
                "subject_type": "text",
                "subject_id": "int",
                "outcome": "text",
                "satisfaction": "text",
                "summary": "text",
                "review_state": "text",
                "review_comment": "text",
                "created_at": "timestamptz",
                "updated_at": "timestamptz",
            },
            call_rows,
        )
        await _bulk(
            "follow_up_task",
            {
                "unit_path": "text",
                "assignee": "int",
                "source_type": "text",
                "source_id": "int",
                "kind": "text",
                "due": "date",
                "done_at": "timestamptz",
                "done_by_type": "text",
            },
            [(*r,) for r in task_rows],
        )
