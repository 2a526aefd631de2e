"""Demo history of the smart platform: about 40 key persons (most of them heads of demo households,
so their household visits form their timeline) with follow-up calls, a few past their contact
day, and about 60 risks of the register; then the warning rules run once.

Runs after field work (10) and cases (20), before the roll-ups (90). A few hundred single-row
inserts: well under a second, plus the emotion analysis of the calls it adds.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, time, timedelta

from app import db
from app.domain import calendar
from app.domain import key_persons as kp
from app.domain.forms import LOCAL_TZ
from app.services import demo

N_PERSONS = 40
N_RISKS = 60

CATEGORY_WEIGHTS = {
    "repeat": 12,
    "dispute_party": 10,
    "counselling": 7,
    "group_leader": 5,
    "beijing": 3,
    "other": 3,
}
LEVEL_WEIGHTS = {"high": 3, "medium": 5, "low": 3}
MEASURES = {
    "repeat": "包保领导每月见面一次，网格员每周电话随访，诉求转住建局限期答复",
    "dispute_party": "司法所、社区调委会联合调解，双方签订协议后跟踪履行",
    "counselling": "联系心理咨询师每两周疏导一次，家属共同参与，关注情绪变化",
    "group_leader": "做好牵头人思想工作，组织相关部门现场答疑，防止聚集",
    "beijing": "落实包保责任，敏感节点前上门走访，诉求依法分类处理",
    "other": "定期走访，了解诉求，及时化解",
}
CALLS_CALM = [
    "电话回访，本人表示问题已在处理，情绪平稳",
    "回访了解近况，家里一切正常，感谢社区关心",
    "电话联系，反映供暖已经恢复，比较满意",
]
CALLS_NEGATIVE = [
    "电话中情绪激动，说拖了这么久没人管，实在忍无可忍",
    "对补偿结果仍然不满，反复说要讨个说法，非常生气",
    "说最近睡不着，心里很焦虑，担心问题一直解决不了",
    "电话里哭诉家里困难，觉得没有希望了",
]
CALLS_SIGNAL = [
    "表示再不解决就去北京上访",
    "说要约上其他业主一起去区政府门口拉横幅",
]
RISKS = {
    "fire": [
        ("楼道堆放杂物堵塞消防通道", "单元楼道"),
        ("电动车楼内充电", "居民楼一楼大厅"),
        ("小区消防栓无水", "小区东门"),
        ("老旧小区电线私拉乱接", "平房区"),
    ],
    "security": [
        ("单元门禁损坏，外来人员随意进出", "小区单元门"),
        ("废弃厂房夜间有人聚集", "厂区北侧"),
        ("路灯损坏，夜间照明不足", "小区主路"),
    ],
    "dispute": [
        ("业主与物业因物业费上涨矛盾激化", "小区物业办公室"),
        ("棚改回迁户对安置面积有异议", "回迁楼"),
        ("施工队拖欠农民工工资", "在建工地"),
        ("相邻住户漏水纠纷多次调解未果", "居民楼"),
    ],
    "other": [("冬季供暖管网老化，多户室温不达标", "换热站"), ("独居老人无人照料", "平房区")],
}
RISK_LEVELS = {"low": 3, "medium": 5, "high": 3, "major": 1}
OWNERS = ["王主任", "李书记", "张所长", "刘网格长", "物业经理陈某", "赵科长"]


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def _at(rng: random.Random, day) -> datetime:
    return datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=LOCAL_TZ)


async def _grids() -> list[dict]:
    return await db.fetch(
        "SELECT u.id, u.path, c.parent AS street_id,"
        " (SELECT id FROM app_user WHERE unit = u.id AND role = 'grid_worker' ORDER BY id"
        "  LIMIT 1) AS worker,"
        " (SELECT id FROM app_user WHERE unit = u.parent ORDER BY id LIMIT 1) AS staff,"
        " (SELECT id FROM app_user WHERE unit = c.parent AND role = 'street_leader'"
        "  ORDER BY id LIMIT 1) AS street_leader"
        " FROM unit u JOIN unit c ON c.id = u.parent WHERE u.tier = 'grid' ORDER BY u.id"
    )


@demo.history_seeder(30)
async def seed_platform_history(rng: random.Random) -> None:
    """Key persons with calls, risks, then one run of the warning rules."""
    today = calendar.today()
    grids = [g for g in await _grids() if g["worker"] or g["staff"]]
    leader = await db.fetchval("SELECT id FROM app_user WHERE username = 'leader'")
    ds_path = await db.fetchval("SELECT path FROM unit WHERE code = 'DS'")
    # the demo accounts' own grids get a few people, so `grid` and `street` see some at once
    own = [g for g in grids if ds_path and g["path"].startswith(ds_path)][:3]
    calls: list[tuple[int, str]] = []
    async with db.transaction():
        for n in range(N_PERSONS):
            g = own[n % len(own)] if own and n < 9 else rng.choice(grids)
            author = g["worker"] or g["staff"]
            household = await db.fetchrow(
                "SELECT id, head_name, head_phone, address FROM household WHERE unit = {}"
                " AND head_name <> '' ORDER BY random() LIMIT 1",
                g["id"],
            )
            category = _pick(rng, CATEGORY_WEIGHTS)
            level = _pick(rng, LEVEL_WEIGHTS)
            registered = today - timedelta(days=rng.randint(60, 120))
            id_number = kp.with_check_digit(
                f"2201{rng.randint(10, 99)}19{rng.randint(45, 95)}"
                f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(100, 999)}"
            )
            person_id = await db.fetchval(
                "INSERT INTO key_person (unit, unit_path, name, id_number, phone, address,"
                " household_id, category, risk_level, leader, leader_user, grid_worker, measures,"
                " note, created_by, created_at, updated_at) VALUES ({}, {}, {}, {}, {}, {}, {},"
                " {}, {}, '', {}, {}, {}, '', {}, {}, {}) RETURNING id",
                g["id"],
                g["path"],
                household["head_name"] if household else f"居民{n}",
                id_number,
                household["head_phone"] if household else f"139{rng.randint(10000000, 99999999)}",
                household["address"] if household else "",
                household["id"] if household else None,
                category,
                level,
                g["street_leader"] or leader,
                g["worker"],
                MEASURES[category],
                author,
                _at(rng, registered),
                _at(rng, registered),
            )
            # Calls: regular contact; every seventh person is past the contact day.
            interval = kp.CONTACT_DAYS[level]
            overdue = n % 7 == 3
            last_gap = interval + rng.randint(2, 12) if overdue else rng.randint(0, interval - 1)
            last_gap = min(last_gap, (today - registered).days)
            days = sorted(
                {last_gap} | {rng.randint(last_gap, (today - registered).days) for _ in range(3)}
            )
            troubled = category in ("repeat", "beijing", "group_leader") and rng.random() < 0.5
            for i, gap in enumerate(reversed(days)):
                if troubled and i >= len(days) - 3:
                    text = rng.choice(CALLS_NEGATIVE)
                    if rng.random() < 0.3:
                        text += "，" + rng.choice(CALLS_SIGNAL)
                else:
                    text = rng.choice(CALLS_CALM)
                at = _at(rng, today - timedelta(days=gap))
                call_id = await db.fetchval(
                    "INSERT INTO call (client_uuid, author, unit, unit_path, called_at,"
                    " subject_type, subject_id, outcome, satisfaction, summary,"
                    " review_state, created_at, updated_at) VALUES ({}, {}, {}, {}, {},"
                    " 'key_person', {}, 'reached', {}, {}, 'reviewed', {}, {}) RETURNING id",
                    uuid.uuid4(),
                    author,
                    g["id"],
                    g["path"],
                    at,
                    person_id,
                    "dissatisfied" if text in CALLS_NEGATIVE else "satisfied",
                    text,
                    at,
                    at,
                )
                calls.append((call_id, text))
        for n in range(N_RISKS):
            g = own[n % len(own)] if own and n < 6 else rng.choice(grids)
            category = rng.choice(list(RISKS))
            title, place = rng.choice(RISKS[category])
            level = _pick(rng, RISK_LEVELS)
            created = today - timedelta(days=rng.randint(1, 110))
            status = rng.choices(["open", "controlled", "closed"], [5, 3, 4])[0]
            deadline = created + timedelta(days=rng.choice([7, 15, 30, 60]))
            risk_id = await db.fetchval(
                "INSERT INTO risk (unit, unit_path, category, level, title, place, description,"
                " measures, owner, deadline, status, created_by, created_at, updated_at)"
                " VALUES ({}, {}, {}, {}, {}, {}, '', {}, {}, {}, {}, {}, {}, {}) RETURNING id",
                g["id"],
                g["path"],
                category,
                level,
                title,
                place,
                "排查登记，落实责任人，限期整改",
                rng.choice(OWNERS),
                deadline,
                status,
                g["worker"] or g["staff"],
                _at(rng, created),
                _at(rng, created),
            )
            await db.fetch(
                "INSERT INTO risk_event (risk, at, actor, from_status, to_status, note)"
                " VALUES ({}, {}, {}, '', 'open', '')",
                risk_id,
                _at(rng, created),
                g["worker"] or g["staff"],
            )
            if status != "open":
                await db.fetch(
                    "INSERT INTO risk_event (risk, at, actor, from_status, to_status, note)"
                    " VALUES ({}, {}, {}, 'open', {}, {})",
                    risk_id,
                    _at(rng, min(created + timedelta(days=rng.randint(1, 20)), today)),
                    g["worker"] or g["staff"],
                    status,
                    "已落实整改措施" if status == "closed" else "已采取管控措施",
                )
    await _analyse(calls)
    from app.services import warnings

    await warnings.evaluate(today)


async def _analyse(calls: list[tuple[int, str]]) -> None:
    """The emotion of the demo calls (few distinct texts: each analysed once), one insert."""
    import json

    from app.domain.emotion import analyze

    results = {text: analyze(text).to_dict() for text in {t for _id, t in calls}}
    await db.fetch(
        "INSERT INTO text_analysis (table_name, record_id, emotion, intensity, signals,"
        " analysed_at) SELECT 'call', r.id, r.emotion, r.intensity, r.signals::jsonb, now()"
        " FROM unnest({}::int[], {}::text[], {}::float8[], {}::text[])"
        " AS r(id, emotion, intensity, signals)"
        " ON CONFLICT (table_name, record_id) DO NOTHING",
        [i for i, _t in calls],
        [results[t]["emotion"] for _i, t in calls],
        [float(results[t]["intensity"]) for _i, t in calls],
        [json.dumps(results[t]["signals"], ensure_ascii=False) for _i, t in calls],
    )
