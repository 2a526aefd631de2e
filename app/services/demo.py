"""The demo district (二道区): organisation, accounts (password ``fengqiao-demo``) and history.

Idempotent: a second run changes nothing. Areas register history seeders with
:func:`history_seeder`; they run once, right after the organisation is first created, and
``random`` is seeded so every fresh install gets the same district.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

from app import db
from app.domain import roles
from app.services import org

DEMO_PASSWORD = "fengqiao-demo"
DISTRICT = ("二道区", "ED")
STREETS = [
    ("东站街道", "DZ"),
    ("东盛街道", "DS"),
    ("东惠街道", "DH"),
    ("吉林街道", "JL"),
    ("荣光街道", "RG"),
    ("远达街道", "YD"),
    ("长青街道", "CQ"),
    ("八里堡街道", "BLB"),
]
TOWN = ("英俊镇", "YJ")
COMMUNITY_NAMES = [
    "和顺",
    "安居",
    "幸福",
    "民丰",
    "新兴",
    "东风",
    "光明",
    "和平",
    "惠民",
    "康宁",
    "富强",
    "春华",
    "万家",
    "文化",
    "团结",
    "兴隆",
    "吉祥",
    "荣华",
    "长安",
    "翠湖",
    "明珠",
    "锦绣",
    "桃源",
    "金港",
    "阳光",
    "丰收",
    "新城",
    "朝阳",
    "太平",
    "前进",
    "育才",
    "红旗",
    "永安",
    "北海",
    "南湖",
    "友谊",
    "建设",
    "丽水",
    "松江",
    "柳岸",
]
VILLAGE_NAMES = ["英俊", "三道", "四家子", "泉眼", "烧锅"]
GRID_NAMES = ["第一网格", "第二网格", "第三网格", "第四网格"]
COMPOUND_SUFFIX = ["家园", "花园", "小区", "新村"]
DEPARTMENTS = [
    ("区住建局", "ZJ"),
    ("区人社局", "RS"),
    ("区民政局", "MZ"),
    ("区城管局", "CG"),
    ("公安二道分局", "GA"),
    ("区司法局", "SF"),
    ("区教育局", "JY"),
    ("区卫健局", "WJ"),
    ("区市场监管局", "SJ"),
    ("区自然资源局", "ZR"),
    ("区信访局", "XF"),
]

HistorySeeder = Callable[[random.Random], Awaitable[None]]
_history: list[tuple[int, HistorySeeder]] = []


def history_seeder(order: int) -> Callable[[HistorySeeder], HistorySeeder]:
    """Register ``fn(rng)`` to add demo history (lower ``order`` runs first)."""

    def register(fn: HistorySeeder) -> HistorySeeder:
        _history.append((order, fn))
        return fn

    return register


async def _add(name: str, tier: str, parent: int | None, code: str, subtype: str | None = None):
    return await org.add_unit(
        None, name=name, tier=tier, parent_id=parent, code=code, subtype=subtype
    )


async def _create_organisation(rng: random.Random) -> dict[str, int]:
    """The 1+9+N+X tree, departments and accounts; returns ids the accounts need."""
    district = await _add(DISTRICT[0], "district", None, DISTRICT[1])
    ids: dict[str, int] = {"district": district["id"]}
    name_pool = list(COMMUNITY_NAMES)
    rng.shuffle(name_pool)
    for s_index, (street_name, code) in enumerate([*STREETS, TOWN]):
        is_town = code == TOWN[1]
        street = await _add(
            street_name, "street", district["id"], code, "town" if is_town else None
        )
        ids[f"street:{code}"] = street["id"]
        n_communities = 4 if is_town else 3 + (s_index % 3)
        for c in range(1, n_communities + 1):
            if is_town:
                c_name, c_sub = f"{VILLAGE_NAMES[c - 1]}村", "village"
            else:
                c_name, c_sub = f"{name_pool.pop()}社区", None
            community = await _add(c_name, "community", street["id"], f"{code}-C{c}", c_sub)
            ids[f"community:{code}-C{c}"] = community["id"]
            for g in range(1, (3 if is_town else 4) + 1):
                grid = await _add(GRID_NAMES[g - 1], "grid", community["id"], f"{code}-C{c}-G{g}")
                ids[f"grid:{code}-C{c}-G{g}"] = grid["id"]
            for k in range(1, 3):
                base = c_name.removesuffix("社区").removesuffix("村")
                await _add(
                    f"{base}{COMPOUND_SUFFIX[(c + k) % 4]}{'' if k == 1 else '二期'}",
                    "compound",
                    community["id"],
                    f"{code}-C{c}-X{k}",
                    "hamlet" if is_town else None,
                )
    for name, code in DEPARTMENTS:
        ids[f"dept:{code}"] = await org.add_department(None, name, code)
    return ids


ACCOUNTS = [
    # username, full name, role, unit key or department key, head of department
    ("admin", "系统管理员", roles.ADMIN, "district", False),
    ("desk", "前台受理员", roles.FRONT_DESK, "district", False),
    ("leader", "区领导", roles.DISTRICT_LEADER, "district", False),
    ("inspector", "督查员", roles.SUPERVISOR, "district", False),
    ("dept", "住建局经办人", roles.DEPARTMENT, "dept:ZJ", False),
    ("depthead", "住建局局长", roles.DEPARTMENT, "dept:ZJ", True),
    ("street", "东盛街道书记", roles.STREET_LEADER, "street:DS", False),
    ("community", "社区调解员", roles.COMMUNITY_STAFF, "community:DS-C1", False),
    ("grid", "网格员小李", roles.GRID_WORKER, "grid:DS-C1-G1", False),
    ("grid2", "网格员小王", roles.GRID_WORKER, "grid:DZ-C1-G1", False),
]


async def _create_accounts(ids: dict[str, int]) -> None:
    from app.services.auth import hash_password

    hashed = hash_password(DEMO_PASSWORD)
    for username, full_name, role, key, is_head in ACCOUNTS:
        is_dept = key.startswith("dept:")
        await org.create_user(
            None,
            org.UserInput(
                username=username,
                full_name=full_name,
                role=role,
                unit_id=None if is_dept else ids[key],
                department_id=ids[key] if is_dept else None,
                is_head=is_head,
                password_hash=hashed,
            ),
        )
    # one grid worker per other grid, and staff per street/community, as authors of history
    grids = await db.fetch("SELECT id, code FROM unit WHERE tier = 'grid' ORDER BY id")
    taken = {ids["grid:DS-C1-G1"], ids["grid:DZ-C1-G1"]}
    for grid in grids:
        if grid["id"] not in taken:
            await org.create_user(
                None,
                org.UserInput(
                    username=f"gw-{grid['code'].lower()}",
                    full_name=f"网格员{grid['code']}",
                    role=roles.GRID_WORKER,
                    unit_id=grid["id"],
                    department_id=None,
                    password_hash=hashed,
                ),
            )
    for tier, role, prefix in (
        ("street", roles.STREET_LEADER, "sl"),
        ("community", roles.COMMUNITY_STAFF, "cs"),
    ):
        for unit in await db.fetch("SELECT id, code FROM unit WHERE tier = {} ORDER BY id", tier):
            if unit["id"] in (ids["street:DS"], ids["community:DS-C1"]):
                continue
            await org.create_user(
                None,
                org.UserInput(
                    username=f"{prefix}-{unit['code'].lower()}",
                    full_name=f"{unit['code']}工作人员",
                    role=role,
                    unit_id=unit["id"],
                    department_id=None,
                    password_hash=hashed,
                ),
            )
    for name, code in DEPARTMENTS:
        if code != "ZJ":
            await org.create_user(
                None,
                org.UserInput(
                    username=f"dept-{code.lower()}",
                    full_name=f"{name}经办人",
                    role=roles.DEPARTMENT,
                    unit_id=None,
                    department_id=ids[f"dept:{code}"],
                    password_hash=hashed,
                ),
            )


async def seed(history: bool = True) -> bool:
    """Create the demo district unless a district exists; return whether it was created."""
    async with db.transaction():
        await db.fetch("SELECT pg_advisory_xact_lock(5171002)")
        if await org.root_unit() is not None:
            return False
        rng = random.Random(20231115)
        ids = await _create_organisation(rng)
        await _create_accounts(ids)
    if history:
        import app.services.demo_areas  # noqa: F401  (registers the areas' history seeders)

        for _order, fn in sorted(_history, key=lambda item: item[0]):
            await fn(random.Random(20231115 + _order))
    return True
