"""Emotion and extreme-risk signal analysis of petition text (app.domain.emotion)."""

import json
import time
from pathlib import Path

import pytest

from app.domain.emotion import EMOTIONS, SIGNAL_KINDS, Analysis, Signal, analyze

LABELLED = Path(__file__).parents[2] / "bench" / "data" / "emotion_labelled.jsonl"


def kinds(text: str) -> set[str]:
    return {s.kind for s in analyze(text).signals}


# --------------------------------------------------------------------------- empty input


@pytest.mark.parametrize("text", ["", "   ", "\n", None])
def test_empty_text_is_calm_with_zero_intensity_and_no_signals(text):
    a = analyze(text)
    assert (a.emotion, a.intensity, a.signals) == ("calm", 0.0, [])


# --------------------------------------------------------------------------- each signal kind


@pytest.mark.parametrize(
    ("text", "kind", "phrase"),
    [
        ("你们不给个说法，我就死给你们看！", "self_harm", "死给你们看"),
        ("我不想活了，你们爱怎么办怎么办吧。", "self_harm", "不想活"),
        ("再敷衍我，我就从这楼上跳下去。", "self_harm", "从这楼上跳下去"),
        ("逼急了我就跟他同归于尽！", "harm_others", "同归于尽"),
        ("包工头再不给钱，我非砍死他不可。", "harm_others", "砍死"),
        ("黑心老板，我要报复他。", "harm_others", "报复"),
        ("再不解决就去北京上访！", "escalate", "去北京"),
        ("实在不行我就越级上访。", "escalate", "越级"),
        ("这事不管，我们就去市里上访。", "escalate", "去市里"),
        ("工资再不给，我们就去公司门口拉横幅。", "gathering", "拉横幅"),
        ("拆迁款不到位，我们就把进村的路堵了。", "gathering", "把进村的路堵"),
        (
            "网格员报告：二十多名工人在项目部门口聚集讨薪。",
            "gathering",
            "二十多名工人在项目部门口聚集讨薪",
        ),
        ("要是还这么拖，我就找记者曝光你们。", "media", "找记者"),
        ("今晚就发抖音，让大家看看你们怎么办事的。", "media", "发抖音"),
    ],
)
def test_each_signal_kind_is_detected_with_its_phrase(text, kind, phrase):
    found = [s for s in analyze(text).signals if s.kind == kind]
    assert found, f"no {kind} in {text}"
    assert phrase in {s.phrase for s in found}


def test_every_signal_kind_is_one_of_the_five_documented_kinds():
    assert set(SIGNAL_KINDS) == {"self_harm", "harm_others", "escalate", "gathering", "media"}


def test_signal_phrase_is_the_exact_substring_at_its_offsets():
    text = "我们已经等了两年。再不解决，我们就组织人去市政府门口拉横幅，还要找记者曝光！"
    signals = analyze(text).signals
    assert {s.kind for s in signals} >= {"gathering", "escalate", "media"}
    for s in signals:
        assert text[s.start : s.end] == s.phrase


@pytest.fixture(scope="module")
def labelled_analyses() -> list[tuple[str, Analysis]]:
    """Every labelled text but the held-out batches, with its analysis (computed once)."""
    from tools.train_emotion import HELD_OUT

    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    # nothing reads a held-out batch before its first run
    texts = [r["text"] for r in rows if r.get("batch") not in HELD_OUT]
    return [(text, analyze(text)) for text in texts]


def test_signal_offsets_match_the_text_across_the_labelled_set(labelled_analyses):
    for text, analysis in labelled_analyses:
        for s in analysis.signals:
            assert text[s.start : s.end] == s.phrase, text


def test_signals_come_in_text_order():
    text = "我要找记者曝光，再不管就去北京，大不了同归于尽。"
    starts = [s.start for s in analyze(text).signals]
    assert starts == sorted(starts)


def test_one_phrase_can_carry_two_kinds_when_it_threatens_self_and_others():
    assert kinds("他们要是敢强拆，大家一起完蛋。") == {"self_harm", "harm_others"}


# --------------------------------------------------------------------------- negation


@pytest.mark.parametrize(
    "text",
    [
        "我不会去上访的，只是希望你们能重视一下这个问题。",
        "我们没有去北京的打算，相信区里能解决。",
        "你放心，我们不会聚集闹事，就想派几个代表好好谈谈。",
        "我没有要曝光谁的意思，就是想把事情说清楚。",
        "他说自己只是气话，不会真的去跳楼，现在情绪平稳多了。",
        "工资拿到了，我们也不会去拉横幅了，谢谢政府。",
    ],
)
def test_negated_threat_is_not_a_signal(text):
    assert kinds(text) == set()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("再不解决就去北京上访！", "escalate"),
        ("不给补偿我就去北京天安门。", "escalate"),
        ("不退钱就去他家门口拉条幅。", "gathering"),
        ("不处理就等着上热搜吧。", "media"),
        ("大不了上新闻，看谁丢脸。", "media"),
        ("活成这样，还不如死了算了。", "self_harm"),
    ],
)
def test_conditional_threat_counts_even_with_a_negation_in_the_condition(text, kind):
    assert kind in kinds(text)


def test_negated_anger_word_is_no_longer_anger():
    assert analyze("本来挺生气的，现在不生气了。").emotion != "anger"


def test_no_dissatisfaction_is_calm():
    assert analyze("我们没有不满，只是想早点知道结果。").emotion == "calm"


def test_negated_satisfaction_is_anger():
    assert analyze("不满意，非常不满意！").emotion == "anger"


def test_emphatic_not_at_all_is_a_complaint_not_a_softener():
    assert analyze("一点都不热，这暖气跟没有一样。").emotion == "anger"


# --------------------------------------------------------------------------- degree adverbs


def test_strong_degree_adverb_raises_intensity_and_weak_one_lowers_it():
    strong = analyze("非常生气，物业把门口的监控拆了。")
    plain = analyze("生气，物业把门口的监控拆了。")
    weak = analyze("有点生气，物业把门口的监控拆了。")
    assert strong.emotion == plain.emotion == weak.emotion == "anger"
    assert strong.intensity > plain.intensity > weak.intensity


def test_slightly_worried_is_still_anxiety_only_weaker():
    weak = analyze("有点担心孩子上学的事，不知道能不能排上号。")
    strong = analyze("特别担心孩子上学的事，不知道能不能排上号。")
    assert weak.emotion == strong.emotion == "anxiety"
    assert weak.intensity < strong.intensity


# --------------------------------------------------------------------------- the five emotions


@pytest.mark.parametrize(
    ("text", "emotion"),
    [
        ("你们就会推诿扯皮，到底谁管？我已经忍无可忍了。", "anger"),
        ("工头拖欠我们八个月工资，敷衍了事，凭什么？", "anger"),
        ("孩子九月就要上学了，学位还没落实，我急得睡不着觉。", "anxiety"),
        ("跑了三年，腿都跑细了，我真的心寒了。", "sadness"),
        ("咨询一下低保怎么申请", "calm"),
        ("请问供暖费可以在网上缴纳吗？", "calm"),
        ("今日入户走访12户，未发现矛盾纠纷，宣传了信访工作条例。", "calm"),
        ("已经顺利解决，非常满意，谢谢你们！", "satisfied"),
        ("拖欠的工资今天全部到账了，感谢人社局和街道的帮助。", "satisfied"),
    ],
)
def test_emotion_of_typical_petition_text(text, emotion):
    assert analyze(text).emotion == emotion


@pytest.mark.parametrize(
    "text",
    [
        "真是太感谢你们了，拖了三年还没解决。",
        "好一个“马上办”，马上了半年，真是高效啊。",
        "太感谢了，又让我白跑一趟。",
    ],
)
def test_sarcastic_thanks_is_anger(text):
    assert analyze(text).emotion == "anger"


def test_mixed_emotion_follows_the_turn_after_but():
    assert analyze("谢谢你们，不过我还是很难过，老房子没了，以后回不去了。").emotion == "sadness"
    assert analyze("问题解决了我很高兴，但拖了这么久，说实话心里还是有气。").emotion == "anger"


def test_despair_with_self_harm_is_sadness_and_leverage_is_anger():
    assert analyze("有时候真想一死了之，一了百了。").emotion == "sadness"
    assert analyze("你们不给个说法，我就死给你们看！").emotion == "anger"


# --------------------------------------------------------------------------- past vs current


def test_reported_past_threat_that_was_withdrawn_raises_no_signal():
    a = analyze("曾扬言去北京，经调解已表示不会再去，目前情绪稳定。")
    assert a.signals == []
    assert a.emotion == "calm"


@pytest.mark.parametrize(
    "text",
    [
        "该户之前因补偿问题多次到市里上访，今年经包案领导协调已息诉罢访。",
        "该人员此前扬言要同归于尽，经心理疏导，目前已无过激言行。",
        "上个月有人在小区门口拉横幅，后来经协调已经撤了。",
        "我原本打算找记者曝光的，现在你们这么负责，就不必了。",
        "老人说以前想过轻生，现在有了低保，日子有盼头了。",
    ],
)
def test_settled_past_threats_raise_no_signal(text):
    assert kinds(text) == set()


def test_threat_reported_by_a_grid_worker_is_a_current_signal():
    assert "escalate" in kinds("该户情绪激动，扬言如果补偿问题不解决，就去北京找国家信访局。")
    assert "harm_others" in kinds("走访中发现该户男子多次扬言要报复村干部，情绪极不稳定。")


# --------------------------------------------------------------------------- words, not threats


@pytest.mark.parametrize(
    "text",
    [
        "商场搞活动打出“跳楼价”横幅，吸引了很多人。",
        "小孩感冒了，医生说按时喝药，多喝水就行。",
        "我们打算周末去北京旅游，请问办居住证需要本人到场吗？",
        "老人要去省里的医院看病，咨询异地就医备案怎么办理。",
        "我怕他们报复我，所以一直不敢出面作证。",
        "报复性熬夜不是好习惯，社区医生提醒大家注意休息。",
        "讲解了《信访工作条例》中关于越级上访的规定，群众表示理解。",
        "市里来检查组，要求各社区做好进京访排查工作。",
        "今天区里记者来社区采访调解室的工作经验。",
        "马路边聚集了很多小摊贩，影响通行，建议城管管理一下。",
        "希望社区能组织一些老年人的文体活动。",
    ],
)
def test_risk_words_without_a_current_threat_are_not_signals(text):
    assert kinds(text) == set()


# --------------------------------------------------------------------------- shape and limits


def test_to_dict_has_the_documented_shape():
    d = analyze("再不解决就去北京上访！").to_dict()
    assert d == {
        "emotion": "anger",
        "intensity": d["intensity"],
        "signals": [{"kind": "escalate", "phrase": "去北京", "start": 5, "end": 8}],
    }
    assert json.loads(json.dumps(d, ensure_ascii=False)) == d


def test_analysis_and_signal_are_the_public_types():
    a = analyze("我要找记者曝光你们。")
    assert isinstance(a, Analysis)
    assert all(isinstance(s, Signal) for s in a.signals)


def test_intensity_is_within_bounds_and_emotion_is_known_for_every_labelled_text(
    labelled_analyses,
):
    for _text, a in labelled_analyses:
        assert a.emotion in EMOTIONS
        assert 0.0 <= a.intensity <= 1.0


def test_extreme_signal_puts_a_floor_under_intensity():
    assert analyze("我不想活了。").intensity >= 0.9
    assert analyze("不给补偿我就去北京。").intensity >= 0.75


def test_calm_text_has_low_intensity():
    assert analyze("请问老年人高龄补贴每月什么时候发放？").intensity <= 0.25


def test_very_long_text_is_analysed_quickly_with_correct_offsets():
    filler = "热力公司说温度达标，家里还是很冷，物业也说不归他们管。" * 300
    text = filler + "再不解决，我们就去省信访局！"
    analyze("预热")
    start = time.perf_counter()
    a = analyze(text)
    assert time.perf_counter() - start < 2.0
    (signal,) = [s for s in a.signals if s.kind == "escalate"]
    assert signal.start > len(filler) - 1
    assert text[signal.start : signal.end] == signal.phrase == "去省信访局"
    assert a.emotion == "anger"


# --------------------------------------------------------------------------- paraphrase families


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("工资不到位，明天我们就在工地门口把路拦了，谁都别想过。", "gathering"),
        ("再不给钱，我们就去拦他的车。", "gathering"),
        ("咱们四十多户一起去住建局，不信没人管。", "gathering"),
        ("你们再拖，我就开直播把事情原原本本讲出来。", "media"),
        ("我已经把这事写成文章投给了新闻客户端，很快就会有人关注。", "media"),
        ("我把他家的住址都打听清楚了，迟早要他好看。", "harm_others"),
        ("这笔账我记着，早晚让他付出代价。", "harm_others"),
        ("他说活着就是受罪，不如早点解脱。", "self_harm"),
        ("老周说日子没法过了，昨晚一直在看药瓶，家里人很害怕。", "self_harm"),
        ("她说不想再拖累孩子了，这几天一直在交代存折放在哪。", "self_harm"),
    ],
)
def test_paraphrased_threats_are_signals(text, kind):
    assert kind in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "孩子学游泳，教练说要勇敢地从跳台上跳下去。",
        "楼道里堆的杂物把路都堵了，老人上下楼不方便，希望物业清理一下。",
        "楼下两辆车把路口堵得严严实实，希望物业能规范停车。",
        "老人不小心喝错了药，已送医院，目前没有危险。",
        "网格员已上报社区，协调民政部门为其申请临时救助。",
        "孩子最近复习太拼命了，晚上老是熬夜。",
    ],
)
def test_innocent_mentions_of_paraphrase_words_are_not_signals(text):
    assert kinds(text) == set()


def test_determination_with_an_old_life_is_not_a_threat_to_others():
    assert kinds("这事没完，我拼了这条老命也要去省里讨个说法。") == {"escalate"}


def test_self_harm_as_leverage_with_regret_is_anger():
    assert analyze("逼急了，我就从桥上跳下去，让你们后悔一辈子。").emotion == "anger"


# --------------------------------------------------------------------------- no default to calm


@pytest.mark.parametrize(
    ("text", "emotion"),
    [
        ("工资条上扣了一堆莫名其妙的钱，问财务就说是规定，什么狗屁规定。", "anger"),
        ("城管来了就收，走了照旧，管了个寂寞。", "anger"),
        ("又要我们补材料？上次交的你们弄丢了吧！", "anger"),
        ("丈夫走后我一个人带着孩子，日子过得紧巴巴的，有苦说不出。", "sadness"),
        ("东奔西走这些年，到头来一场空。", "sadness"),
        ("我妈血压一直降不下来，现在心里一点主意都没有。", "anxiety"),
        ("老两口住进新屋，笑得合不拢嘴。", "satisfied"),
    ],
)
def test_colloquial_emotion_without_a_classic_word_is_not_calm(text, emotion):
    assert analyze(text).emotion == emotion


def test_a_plain_inquiry_still_is_calm_under_the_fallback():
    assert analyze("您好，我是三号楼的住户，想问下垃圾清运时间有没有调整。").emotion == "calm"
    assert analyze("经现场查看，漏水点位于公共管道，已通知维修单位。").emotion == "calm"
