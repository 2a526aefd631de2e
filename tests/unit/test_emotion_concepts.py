"""Signal concepts of app.domain.emotion: families of paraphrases and what cancels them.

Every sentence here is new wording (none is in bench/data/emotion_labelled.jsonl): a concept
(jump + water, poison + swallowing, a crowd + a blockade ...) must catch paraphrases it was
not written from, and its cancellations must hold for innocent uses it was not written from.
"""

import pytest

from app.domain.emotion import analyze


def kinds(text: str) -> set[str]:
    return {s.kind for s in analyze(text).signals}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # self-harm: jump + height or water, in either order
        ("再没人管，我就从咱家阳台跳下去。", "self_harm"),
        ("实在熬不下去了，我想跳进村口那口井。", "self_harm"),
        ("我都想好了，等把孩子安顿好，我就去河边走走，再也不回来了。", "self_harm"),
        # self-harm: poison swallowed or kept at hand
        ("你们逼我，我就当着你们的面把这瓶农药灌下去。", "self_harm"),
        ("他说家里早就备好了一瓶敌敌畏，哪天撑不住就喝。", "self_harm"),
        ("我兜里揣着一包老鼠药，今天不给说法我就吃了。", "self_harm"),
        # self-harm: despair idioms
        ("这辈子活够了，等我死了你们来给我收尸吧。", "self_harm"),
        ("我不如找根绳子吊死算了。", "self_harm"),
        # harm to others: weapon + intent, violence to a person, veiled threats
        ("他要是敢再踏进我家院子，我就一斧子劈了他。", "harm_others"),
        ("逼急了我就拎着汽油桶去他们公司。", "harm_others"),
        ("那个黑心老板，我早晚要弄死他。", "harm_others"),
        ("你跟那个包工头说，他最好晚上别一个人出门。", "harm_others"),
        ("等我出来，第一个就去找那个村霸算账，非废了他不可。", "harm_others"),
        # escalation: movement or hand-over + a higher level
        ("区信访办再不管，我就去省信访局门口蹲着。", "escalate"),
        ("这事我要一直告到国务院。", "escalate"),
        ("下周我就坐飞机去北京，找国家信访局。", "escalate"),
        ("我已经把举报信寄给了中央巡视组。", "escalate"),
        ("市里我也去过了，没用，下一步直接进京。", "escalate"),
        # gathering: a crowd + a blockade, banners or a sit-in
        ("几十个业主约好周末去开发商总部门口拉横幅。", "gathering"),
        ("再拖工资，我们全体工人就去把项目部大门堵上。", "gathering"),
        ("明天全村人都到镇政府门口去跪着。", "gathering"),
        ("工友们说好了，谁都不上工，去老板家门口守着要钱。", "gathering"),
        # media: publish + platform, contact + outlet, exposure as the aim
        ("不给钱，我就把这些照片发到微博上。", "media"),
        ("我要在快手上开直播，把你们的嘴脸都晒出来。", "media"),
        ("我已经给报社打了电话，他们说明天派记者来。", "media"),
        ("这事我要发到网上，让全国网友都评评理。", "media"),
        ("我要找央视的记者，把你们这些事都捅出去。", "media"),
    ],
)
def test_unseen_paraphrase_of_a_concept_is_a_signal(text, kind):
    assert kind in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "我就是说说气话，不会真去北京的。",
        "我不会去堵路的，那是违法的。",
        "我不想把事情闹大，也不打算找媒体，就想私下解决。",
    ],
)
def test_negated_threat_is_not_a_signal(text):
    assert kinds(text) == set()


@pytest.mark.parametrize(
    "text",
    [
        "前几天他说要喝农药，后来家里人劝住了，现在情绪稳定。",
        "他说要去市里告状，经过街道调解，事情已经平息了。",
        "上次说要去市里上访，那是一时糊涂，现在问题都解决了。",
        "我原本打算找记者，后来你们来了就算了。",
    ],
)
def test_settled_or_withdrawn_threat_is_not_a_signal(text):
    assert kinds(text) == set()


def test_a_withdrawal_word_that_is_negated_withdraws_nothing():
    assert "escalate" in kinds("我说去北京不是气话，你们再拖我真去。")


@pytest.mark.parametrize(
    "text",
    [
        "孩子在学校跳远拿了第一名。",
        "河边的护栏坏了，小孩容易掉下去，请尽快修一下。",
        "我家狗送人了，现在想把狗证注销。",
        "我把房本交给中介了，想问问过户要多久。",
        "菜刀钝了，老王拿去磨了磨。",
        "老李拿着锄头下地干活去了。",
        "我们全家去北京看病，想问异地医保怎么报销。",
        "他们几个年轻人周末一起去市里看演唱会。",
        "我闺女考上了省城的大学，想问问助学贷款怎么办。",
        "我爸以前在北京当过兵，现在想申请优抚待遇。",
        "社区组织居民集体去敬老院慰问老人。",
        "村里几十户人家都去镇上赶集了。",
        "商场门口排了几十个人等着领鸡蛋。",
        "社区安排了几十个志愿者去路口帮忙疏导交通。",
        "小区门口的路被施工围挡挡住了一半，出行不便。",
        "昨天电视台报道了我们小区的垃圾分类经验。",
        "记者问我对新小区满不满意，我说挺好的。",
        "我想在网上办理营业执照，请问流程是什么？",
        "我在朋友圈转发了社区的防诈骗提醒。",
        "业主们在群里商量团购年货的事。",
    ],
)
def test_innocent_mention_of_a_concept_word_is_not_a_signal(text):
    assert kinds(text) == set()


@pytest.mark.parametrize(
    "text",
    [
        "听说邻村有个老人喝农药死了，大家都很难过。",
        "电视上说有个人因为欠债跳河了，真可怜。",
    ],
)
def test_someone_elses_completed_act_reported_as_news_is_not_a_signal(text):
    assert kinds(text) == set()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("听说有人在微信群里组织明天去堵国道。", "gathering"),
        ("据了解，有几户计划国庆期间去北京上访。", "escalate"),
    ],
)
def test_hearsay_of_a_plan_is_a_signal_and_its_emotion_is_calm(text, kind):
    a = analyze(text)
    assert kind in a.signal_kinds
    assert a.emotion == "calm"


@pytest.mark.parametrize(
    ("text", "emotion"),
    [
        ("交了三年的物业费，小区里的路灯就没亮过，这钱交得真冤。", "anger"),
        ("这都第几次了？每次来都说下次，下次是哪次？", "anger"),
        ("真是好样的，投诉了半年一点动静都没有。", "anger"),
        ("物业费一分不少收，垃圾一周才清一次，合适吗？", "anger"),
        ("孩子都三天没回家了，电话也打不通，我心里慌得不行。", "anxiety"),
        ("我家老人血压又高了，药快吃完了，医保卡又出了问题，这可咋办。", "anxiety"),
        ("老伴走了以后，家里就剩我一个人，冷冷清清的。", "sadness"),
        ("我这辈子算是白活了，房子没了，钱也没了。", "sadness"),
        ("困扰我们好几年的积水问题总算解决了，大伙都说好。", "satisfied"),
        ("本来以为要等很久，没想到第二天就给办好了，真省心。", "satisfied"),
        ("请问居住证到期了在哪里续签？", "calm"),
    ],
)
def test_colloquial_emotion_of_unseen_wording(text, emotion):
    assert analyze(text).emotion == emotion
