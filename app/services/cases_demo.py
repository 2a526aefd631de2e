"""Demo history for petition cases: matters in every state across the streets, backdated.

Every matter is registered and moved through :func:`app.services.cases.apply_action` with a
backdated ``now``, so events, clocks, bodies, supervision and audit stay consistent with what
the domain allows. 区住建局 (the ``dept`` account's department) gets the largest share.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from types import SimpleNamespace

from app import db
from app.domain.forms import LOCAL_TZ
from app.services import cases as svc
from app.services import demo

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = [
    "建国",
    "秀英",
    "玉兰",
    "志强",
    "海燕",
    "国庆",
    "淑珍",
    "德明",
    "丽华",
    "永平",
    "桂芝",
    "春生",
]
MATTERS = [
    ("住房", "ZJ", "小区楼顶漏水多年，物业和开发商互相推诿，要求尽快维修。", "维修楼顶防水"),
    ("住房", "ZJ", "回迁安置房迟迟未交付，已超过合同约定期限两年。", "按合同交付回迁房"),
    ("住房", "ZJ", "老旧小区改造施工噪音扰民，夜间仍在施工。", "规范施工时间"),
    ("住房", "ZJ", "物业费上涨未经业主大会同意。", "撤销涨价"),
    ("住房", "ZJ", "房屋质量问题，墙体开裂，开发商拒不维修。", "维修并赔偿"),
    ("劳动保障", "RS", "工地拖欠农民工工资三个月，包工头失联。", "支付拖欠工资"),
    ("劳动保障", "RS", "单位未依法缴纳社会保险。", "补缴社保"),
    ("民政", "MZ", "低保资格被取消，认为家庭收入核算有误。", "恢复低保"),
    ("城市管理", "CG", "路边烧烤油烟扰民，多次反映无果。", "取缔占道烧烤"),
    ("城市管理", "CG", "小区周边违章建筑侵占消防通道。", "拆除违建"),
    ("教育", "JY", "学区划分调整后孩子无法就近入学。", "就近入学"),
    ("医疗卫生", "WJ", "社区卫生服务中心收费不透明。", "公开收费明细"),
    ("市场监管", "SJ", "预付卡商家跑路，消费者无法退款。", "追回预付款"),
    ("自然资源", "ZR", "征地补偿标准偏低，与周边不一致。", "提高补偿标准"),
]
# (final state to reach, days ago it was received, extra)
PLAN = [
    ("registered", 3, {}),
    ("registered", 20, {}),
    ("registered", 1, {"group": 12}),
    ("dispatched", 4, {}),
    ("dispatched", 6, {"co": "RS"}),
    ("dispatched", 25, {}),
    ("objected", 8, {}),
    ("accepted", 10, {}),
    ("in_progress", 30, {}),
    ("in_progress", 50, {"own": True}),
    ("in_progress", 75, {"supervise": True}),
    ("in_progress", 90, {"listed": True, "own": True}),
    ("extended", 70, {}),
    ("in_progress", 40, {"co": "CG"}),
    ("replied", 40, {}),
    ("evaluated", 60, {}),
    ("evaluated", 80, {"satisfied": True}),
    ("review_requested", 100, {}),
    ("reviewed", 130, {}),
    ("rereview_requested", 160, {}),
    ("final", 200, {}),
    ("closed", 120, {"satisfied": True}),
    ("closed", 150, {}),
    ("diverted", 15, {}),
    ("told_where_to_go", 12, {}),
    ("diverted_body", 45, {}),
    ("in_progress", 20, {}),
    ("in_progress", 58, {}),
    ("accepted", 14, {}),
    ("registered", 16, {}),
    ("closed", 90, {"satisfied": True}),
    ("replied", 25, {}),
]
TAG_CHOICES = ["first_time", "backlog", "risk", "to_beijing", "prominent", "publicity"]


async def _user(username: str) -> SimpleNamespace:
    row = await db.fetchrow(
        "SELECT u.id, u.username, u.role, u.unit AS unit_id, un.path AS unit_path,"
        " u.department AS department_id, u.is_head FROM app_user u"
        " LEFT JOIN unit un ON un.id = u.unit WHERE u.username = {}",
        username,
    )
    return SimpleNamespace(**row)


async def _dept_user(code: str, head: bool = False) -> SimpleNamespace:
    if code == "ZJ":
        return await _user("depthead" if head else "dept")
    user = await _user(f"dept-{code.lower()}")
    if head:
        user.is_head = True  # demo: the handler acts with the head's approval recorded
    return user


@demo.history_seeder(20)
async def seed_cases(rng: random.Random) -> None:
    now = datetime.now(LOCAL_TZ).replace(hour=10, minute=0, second=0, microsecond=0)
    desk, leader, inspector = await _user("desk"), await _user("leader"), await _user("inspector")
    depts = {r["code"]: r["id"] for r in await db.fetch("SELECT id, code FROM department")}
    communities = await db.fetch("SELECT id FROM unit WHERE tier = 'community' ORDER BY id")
    ds = await db.fetchval("SELECT path FROM unit WHERE code = 'DS'")
    ds_units = [
        r["id"]
        for r in await db.fetch(
            "SELECT id FROM unit WHERE tier = 'community' AND path LIKE {}", ds + "%"
        )
    ]
    for n, (target, days_ago, extra) in enumerate(PLAN):
        category, code, content, request = MATTERS[n % len(MATTERS)]
        if n % 3 == 0:
            category, code, content, request = MATTERS[n % 5]  # 住建局 gets many
        t0 = now - timedelta(days=days_ago, hours=rng.randint(0, 5))

        def at(day: float, base: datetime = t0) -> datetime:
            return min(
                base + timedelta(days=day, minutes=rng.randint(1, 50)), now - timedelta(minutes=5)
            )

        unit_id = rng.choice(ds_units) if n % 4 == 0 else rng.choice(communities)["id"]
        tags = sorted({rng.choice(TAG_CHOICES)} | ({"backlog"} if days_ago > 100 else set()))
        fields = {
            "channel": rng.choice(["visit", "letter", "phone", "online", "visit"]),
            "petitioner_name": rng.choice(SURNAMES) + rng.choice(GIVEN),
            "petitioner_phone": f"13{rng.randint(100000000, 999999999)}",
            "petitioner_id_number": f"2201{rng.randint(10, 99)}19{rng.randint(50, 99)}"
            f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(1000, 9999)}",
            "group_size": extra.get("group", 1),
            "representatives": 3 if extra.get("group") else None,
            "unit_id": unit_id,
            "category": category,
            "content": content,
            "request": request,
            "received_at": t0.isoformat(),
            "tags": tags,
        }
        reg = await svc.register(desk, fields, now=t0)
        cid = reg.id
        if target == "registered":
            continue
        if target == "diverted":
            await svc.apply_action(
                desk,
                cid,
                "divert",
                {"target": "political_legal", "reason": "涉法涉诉，依法导入诉讼程序"},
                now=at(2),
            )
            continue
        if target == "told_where_to_go":
            await svc.apply_action(
                desk,
                cid,
                "tell_where_to_go",
                {"where": "区人民法院", "reason": "属于民事纠纷，应通过诉讼解决"},
                now=at(1),
            )
            continue
        handler = await _dept_user(code)
        dispatch = {"lead": str(depts[code]), "reason": "属该部门职责"}
        if extra.get("co"):
            dispatch["co_handlers"] = [str(depts[extra["co"]])]
        action = "assign" if n % 2 else "transfer"
        if action == "assign":
            dispatch["report_days"] = 30
        await svc.apply_action(desk, cid, action, dispatch, now=at(2))
        if target == "dispatched":
            continue
        if target == "objected":
            await svc.apply_action(
                handler, cid, "object", {"reason": "不属于本部门职责范围"}, now=at(4)
            )
            continue
        if extra.get("co"):
            await svc.apply_action(await _dept_user(extra["co"]), cid, "acknowledge", {}, now=at(3))
        await svc.apply_action(handler, cid, "accept", {}, now=at(5))
        if extra.get("own"):
            await svc.apply_action(leader, cid, "claim_ownership", {}, now=at(6))
        if target == "accepted":
            continue
        await svc.apply_action(
            handler, cid, "note", {"text": "已赴现场核查，调取相关材料。"}, now=at(9)
        )
        if target == "diverted_body":
            await svc.apply_action(
                handler,
                cid,
                "divert",
                {
                    "target": "arbitration",
                    "reason": "属劳动争议，依法导入仲裁程序",
                    "receiving_body": "区劳动人事争议仲裁委员会",
                },
                now=at(12),
            )
            continue
        if extra.get("supervise") or extra.get("listed"):
            await svc.apply_action(
                inspector,
                cid,
                "supervise",
                {
                    "reason": "办理进度滞后，请限期反馈",
                    "feedback_days": 10,
                    "listed": extra.get("listed", False),
                },
                now=at(min(days_ago - 2, 65)),
            )
        if target == "in_progress":
            continue
        if target == "extended":
            head = await _dept_user(code, head=True)
            await svc.apply_action(
                head,
                cid,
                "extend",
                {
                    "days": 30,
                    "reason": "案情复杂，需多部门会商",
                    "approved_by": "局长",
                    "petitioner_told": True,
                },
                now=at(55),
            )
            continue
        await svc.apply_action(
            handler,
            cid,
            "opinion",
            {
                "outcome": rng.choice(["support", "explain", "not_support"]),
                "request_summary": request,
                "facts_and_reasons": "经调查核实，" + content,
                "opinion": "责成相关单位限期整改，并向信访人说明情况。",
                "legal_basis": "《信访工作条例》第三十二条；相关行业管理规定",
            },
            now=at(min(days_ago - 20, 45) if days_ago > 25 else 12),
        )
        if target == "replied":
            continue
        sat = "satisfied" if extra.get("satisfied") else rng.choice(["basically", "dissatisfied"])
        base = t0 + timedelta(days=min(days_ago - 20, 45) if days_ago > 25 else 12)
        await svc.apply_action(desk, cid, "evaluate", {"satisfaction": sat}, now=at(3, base))
        if target == "evaluated":
            continue
        if target == "closed":
            await svc.apply_action(
                handler, cid, "close", {"summary": "已办结归档"}, now=at(5, base)
            )
            continue
        await svc.apply_action(
            desk,
            cid,
            "request_review",
            {"reviewing_body": "区人民政府", "reason": "对处理意见不服"},
            now=at(10, base),
        )
        if target == "review_requested":
            continue
        await svc.apply_action(
            leader,
            cid,
            "decide_review",
            {"outcome": "uphold", "opinion": "原处理意见事实清楚，维持。"},
            now=at(30, base),
        )
        if target == "reviewed":
            continue
        await svc.apply_action(
            desk,
            cid,
            "request_rereview",
            {"reviewing_body": "市信访局", "reason": "对复查意见不服"},
            now=at(40, base),
        )
        if target == "rereview_requested":
            continue
        await svc.apply_action(
            leader,
            cid,
            "decide_rereview",
            {"outcome": "uphold", "opinion": "复查意见正确，维持。"},
            now=at(60, base),
        )
        await svc.apply_action(desk, cid, "close", {"summary": "复核终结"}, now=at(62, base))
    from app.routes.lists import open_at

    baseline = now.date().replace(month=1, day=1)
    await db.fetch(
        "INSERT INTO list_baseline (baseline_on, count, note) VALUES ({}, {}, {})"
        " ON CONFLICT (baseline_on) DO NOTHING",
        baseline,
        await open_at(baseline),
        "年初存量积案基数",
    )
    district = await db.fetchrow("SELECT id, path FROM unit WHERE parent IS NULL")
    for k, place in enumerate(["东盛街道综治中心", "区社会矛盾调处化解中心", "和顺社区广场"]):
        await db.fetch(
            "INSERT INTO publicity_event (held_on, place, audience_count, unit, unit_path, note)"
            " VALUES ({}, {}, {}, {}, {}, {})",
            now.date() - timedelta(days=20 * (k + 1)),
            place,
            80 + 40 * k,
            district["id"],
            district["path"],
            "《信访工作条例》宣传",
        )
