"""Signal concepts of app.domain.emotion: families of paraphrases and what cancels them.

Every sentence here is new wording (none is in bench/data/emotion_labelled.jsonl): a concept
(jump + water, poison + swallowing, a crowd + a blockade ...) must catch paraphrases it was
not written from, and its cancellations must hold for innocent uses it was not written from.
"""

import pytest

from app.domain.emotion import analyze, rule_view


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


# --------------------------------------------------------------------------- second pass
# Families added after the fresh4 batch; every sentence is new wording.


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # self-harm: hanging, starving, giving up, looking down, a poison carried along
        ("实在熬不住了，我去买根麻绳，往后山那棵歪脖子树上一挂就了断了。", "self_harm"),
        ("低保再不批，我从明天起就绝食，饿死在你们办公室拉倒。", "self_harm"),
        ("我这身病治不起了，干脆不活了，也省得拖累两个孩子。", "self_harm"),
        ("她这几天老是趴在顶楼的栏杆上往下瞅，一站就是半天。", "self_harm"),
        ("他兜里装着一袋毒鼠强，说今天就吃给你们看。", "self_harm"),
        ("你们不管，我就提着一瓶百草枯去镇政府。", "self_harm"),
        # harm to others: a weapon on a person, injury, veiled threats, accepting the cost
        ("他再敢动我家的地，我抄起铁锨就拍他脑袋。", "harm_others"),
        ("那个放高利贷的再来，我非把他的腿打断不可。", "harm_others"),
        ("你回去告诉那个经理，他闺女几点放学我都知道。", "harm_others"),
        ("大不了去坐牢，我也得给他点教训。", "harm_others"),
        ("这口气我咽不下去，真打起来我也认了。", "harm_others"),
        # escalation: a bare discipline body, posting, setting off
        ("这个站长贪了我们的补贴，我这就去纪委告他。", "escalate"),
        ("信我都写好了，明天就邮到国家信访局。", "escalate"),
        ("我已经买了车票，周三动身前往北京。", "escalate"),
        # gathering: households together, sit-in props or standing, vehicles on a road
        ("咱们这十几户商量好了，下礼拜一块儿去县里要个说法。", "gathering"),
        ("不给补偿，我们这些老住户就扛着铺盖去拆迁办门口住。", "gathering"),
        ("货车司机们说，过路费再不降，就把车横在国道上。", "gathering"),
        ("楼栋长在群里号召所有业主周六到物业中心门口集合。", "gathering"),
        ("条幅都印好了，就等人齐。", "gathering"),
        # media: publishing without a preposition, out into the open, live
        ("监控录像我拷下来了，回头全传网上去。", "media"),
        ("我外甥是个博主，这事不解决我就让他把你们曝出来。", "media"),
        ("明天我去讨薪，全程直播，看你们怎么说。", "media"),
    ],
)
def test_second_pass_family_catches_an_unseen_paraphrase(text, kind):
    assert kind in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        # the same words in innocent use
        "帮我找根绳子，把这些纸箱捆一下。",
        "医生说先别吃东西，手术前要禁食一天。",
        "我站在阳台上往下看，楼下孩子们在放烟花。",
        "我拎着一瓶杀虫剂去菜地治虫。",
        "奶奶拿擀面杖擀面，准备包饺子。",
        "我知道他家住哪，请问能帮我把这份通知送过去吗？",
        "这双鞋打折以后才八十块钱。",
        "我们去找会计算账，看看这个月的工资对不对。",
        "我想把孩子的奖状寄到北京给他爷爷看看。",
        "老年大学组织十几户老人一起去县里参观农业园。",
        "周末我们几家带着帐篷去河边露营。",
        "社区号召大家积极参与垃圾分类。",
        "街上有人乱摆摊子，把路都占了，城管也不管。",
        "通知已经发出去了，请大家按时来领。",
        "我在网上查了一下，这个补贴要去社区申请。",
    ],
)
def test_second_pass_family_word_in_innocent_use_is_not_a_signal(text):
    assert kinds(text) == set()


@pytest.mark.parametrize(
    "text",
    [
        "拉横幅那一套我们可不干，还是等政府调查。",
        "在网上骂人的事我不会做，我就想要回押金。",
    ],
)
def test_a_refusal_after_the_act_cancels_it(text):
    assert kinds(text) == set()


@pytest.mark.parametrize(
    "text",
    [
        "昨天在快手上刷到外地有人爬上塔吊讨薪，看得我心惊肉跳。",
        "新闻上看到别的城市有业主集体堵了售楼处，我们这儿可不能那样。",
    ],
)
def test_someone_elses_act_seen_in_the_media_is_not_a_signal(text):
    assert kinds(text) == set()


@pytest.mark.parametrize(
    "text",
    [
        "起初他嚷着要去省里上访，后来补偿款到位了，再没提过。",
        "前些年我真动过跳河的念头，现在孙子都上学了，日子敞亮了。",
    ],
)
def test_an_earlier_threat_that_was_settled_is_not_a_signal(text):
    assert kinds(text) == set()


@pytest.mark.parametrize(
    ("text", "emotion"),
    [
        # a subject's own threat quoted in a log carries anger over the log's calm phrasing
        ("走访记录：张某称“再不给钱我就拿刀去找他”，已告知派出所。", "anger"),
        # a recourse taken in resignation keeps the worry or grief it is said with
        ("孩子的病拖不起，我心里发慌，实在不行只能去省里问问了。", "anxiety"),
        ("我哭了好几宿了，没办法，只能找记者帮忙。", "sadness"),
        # reassurance given to the worker is not the speaker's relief
        ("你们放心，我不闹，就是想知道这事还能不能办成？", "anxiety"),
        # worry about what comes next, scorn in a question, a quarrel made up
        ("老房子要拆了，往后我们老两口住哪呢？", "anxiety"),
        ("等了一个礼拜就给我这么个答复，这也叫办事？", "anger"),
        ("两家人各退一步，现在又能串门了，挺好。", "satisfied"),
        ("好一个“便民”窗口，排了三小时队还说系统坏了。", "anger"),
    ],
)
def test_second_pass_emotion_of_unseen_wording(text, emotion):
    assert analyze(text).emotion == emotion


@pytest.mark.parametrize("unit", ["拿刀", "发出去", "称“我发出去", "我就去北京，", "跳楼"])
def test_a_long_text_full_of_matches_is_analysed_in_linear_time(unit):
    import time

    analyze("你好")
    text = (unit * (20_000 // len(unit)))[:20_000]
    started = time.perf_counter()
    analyze(text)
    assert time.perf_counter() - started < 5


def rule_kinds(text: str) -> set[str]:
    return {s.kind for s in rule_view(text)[0].signals}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # fire on oneself is self-harm, fire aimed at others is harm
        ("他说再不赔钱，就在厂门口往自己身上倒柴油。", "self_harm"),
        ("他说再不赔钱，就往老板车上泼汽油。", "harm_others"),
        # a rhetorical question or a dare does not negate the threat
        ("你们是不是非要我去省里告才肯办？", "escalate"),
        ("别以为我不敢去北京，大不了再跑一趟。", "escalate"),
        ("你们不是最怕曝光吗？那我就找报社。", "media"),
        # a group petition named as such, in an official's note or a call to come
        ("街道报告：有人正在组织上访，准备周一到区政府。", "gathering"),
        ("明早八点开发商门口，业主们能来的都来！", "gathering"),
    ],
)
def test_seventh_pass_families_fire_in_the_rules(text, kind):
    assert kind in rule_kinds(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("社区开展预防群体性上访的培训。", "gathering"),
        ("他往自己的车里加了半箱汽油。", "self_harm"),
        ("我不是要去北京，就想把材料交给你们。", "escalate"),
    ],
)
def test_seventh_pass_look_alikes_stay_quiet_in_the_rules(text, kind):
    assert kind not in rule_kinds(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # a beating promised or a weapon grabbed, a warning aimed at a person
        ("他家狗再往我门口拉屎，我下去捶那小子一顿。", "harm_others"),
        ("见了那个包工头我就动手，谁也别拦着。", "harm_others"),
        ("吵着吵着，男方抄起一把铁锹就往外冲。", "harm_others"),
        ("你回去告诉那个经理，他下班路上最好当心着。", "harm_others"),
        # levels above the district named without a place
        ("这封信我要寄到市长信箱，看他们还推不推。", "escalate"),
        ("街道解决不了，我就去找更上一级的领导。", "escalate"),
        ("你们不就怕我往上头找吗？我偏去。", "escalate"),
        # a group on a crane or a roof, comrades mobilised
        ("工钱再拖，我们二十几个工友就一起爬上楼顶。", "gathering"),
        ("老李说要组织老乡们去省里讨个说法。", "gathering"),
        # the press summoned, a post asking to be spread, exposure promised
        ("谈不拢是吧？那我就喊记者过来评评理。", "media"),
        ("我已经向报社反映了你们的问题。", "media"),
        ("不给退钱，你就等着上热搜吧。", "media"),
    ],
)
def test_eighth_pass_families_fire_in_the_rules(text, kind):
    assert kind in rule_kinds(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # each names what a family looks for, in innocent use
        ("他抄起瓶子喝了一大口水。", "harm_others"),
        ("吃饭时他抄起叉子就吃。", "harm_others"),
        ("见了他就动手打招呼，这孩子真有礼貌。", "harm_others"),
        ("下雨了，他开车最好小心点。", "harm_others"),
        ("妈妈对我说，他晚上出门最好小心点。", "harm_others"),
        ("天冷路滑，你爸出门最好小心点。", "harm_others"),
        ("把重的箱子放到最上面。", "escalate"),
        ("怕孩子爬到上面摔下来，我把柜子锁了。", "escalate"),
        ("钥匙我放到上面找不到了。", "escalate"),
        ("孩子考上了省城的大学，想去省城电视台实习。", "escalate"),
        ("我们上楼顶收衣服。", "gathering"),
        ("我们一起上楼顶放风筝。", "gathering"),
        ("工人们系好安全带上塔吊检修。", "gathering"),
        ("医院组织了病友交流会。", "gathering"),
        ("社区请记者来采访了老党员的事迹。", "media"),
        ("爷爷每天七点就等着看新闻联播。", "media"),
        ("大家都等着看春晚直播。", "media"),
    ],
)
def test_eighth_pass_look_alikes_stay_quiet_in_the_rules(text, kind):
    assert kind not in rule_kinds(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # a few households or the kin moving together, no number named
        ("补偿再不到位，俺就跟俺组几家一块去区里。", "gathering"),
        ("我们几户合计好了，下礼拜一起去开发区管委会。", "gathering"),
        ("他不给说法，我就叫上本家兄弟去他厂里堵门。", "gathering"),
        # a collective visit and a sit-in by a few named by their trade
        ("上午来访的为同一栋楼五户居民，反映电梯停运。", "gathering"),
        ("几个车主说明天要去4S店门口坐着不走。", "gathering"),
        # thugs hired, a knife sharpened with a threat, a kinsman as the target
        ("他放出话来，要找几个混社会的来收拾我家。", "harm_others"),
        ("隔壁那人天天在院里磨刀，说要把我们一家收拾了。", "harm_others"),
        ("我二叔喝了酒就说要去砍我爸。", "harm_others"),
        ("他说谁敢再来量地，就让谁横着出去。", "harm_others"),
        # self-harm: cutting oneself, not coming back, filter-dodging spelling
        ("心里太难受了，总想拿小刀划自己。", "self_harm"),
        ("这次去省里还不给办，我就不回来了，死哪算哪。", "self_harm"),
        ("再逼我，我就zisha给你们看。", "self_harm"),
        ("孩子走了，我活着还有啥意思，我也想跟着她去。", "self_harm"),
        # threats inside an official's note that also says who was notified
        ("值班记录：有商户称明天去电视台门口等记者，已通知市场监管所。", "media"),
    ],
)
def test_eleventh_pass_families_fire_in_the_rules(text, kind):
    assert kind in rule_kinds(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("我们几家约好周六一起去采摘园。", "gathering"),
        ("我们几户老人腿脚不好，下不去楼，能不能送菜上门？", "gathering"),
        ("我们几家当时约好了要去堵门，后来开发商把钱退了，大家都挺满意。", "gathering"),
        ("过年了，我带着一家老小去丈人家拜年。", "gathering"),
        ("接待工作要求：遇到群众集体来访要耐心解释。", "gathering"),
        ("楼下饭馆的厨子天天磨刀，剁肉的声音太吵。", "harm_others"),
        ("我们找了几个人来收拾屋子，搬家太累了。", "harm_others"),
        ("他喝多了吹牛，说谁惹他就让谁横着出去。", "harm_others"),
        ("刷卡的时候划自己的卡就行。", "self_harm"),
        ("我那紫砂壶是老伴留下的。", "self_harm"),
        ("儿子去三亚过冬，老伴去世后我一个人，我也想跟着去。", "self_harm"),
        ("我在网上发个水滴筹，给我爸凑点手术费。", "media"),
    ],
)
def test_eleventh_pass_look_alikes_stay_quiet_in_the_rules(text, kind):
    assert kind not in rule_kinds(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("物业再来贴条，我老公说就动手打人。", "harm_others"),
        ("谁敢动我家祖坟，我就跟他玩命。", "harm_others"),
        ("他扬言要打断那个会计的腿。", "harm_others"),
        ("钱再不到，先让那个工头去医院住几天。", "harm_others"),
        ("开发商的人谁敢来量房就打谁。", "harm_others"),
        ("不还钱可别怪我们下手重了，别怪我们翻脸。", "harm_others"),
        ("讲不通的话，我们一家跟他一起死。", "self_harm"),
        ("李某等六人今天上午前往市信访局。", "gathering"),
        ("咱们几十户说好了，谁也不让挖机进村。", "gathering"),
        ("今晚十个站点的骑手连麦，说说平台怎么扣钱。", "media"),
        ("我已经跟电视台那边联系好了，明天来拍。", "media"),
    ],
)
def test_twelfth_pass_families_fire_in_the_rules(text, kind):
    assert kind in rule_kinds(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("谁先到就跟谁商量，别着急。", "harm_others"),
        ("医生说再不手术就得去医院住几个月。", "harm_others"),
        ("晚上连麦打游戏，输了就唱歌。", "media"),
        ("主播连麦带货，卖的是家乡的苹果。", "media"),
        ("社区不让电动车进楼，大家都支持。", "gathering"),
        ("我们等三人去年就把事情谈妥了，谈不拢的都过去了。", "harm_others"),
    ],
)
def test_twelfth_pass_look_alikes_stay_quiet_in_the_rules(text, kind):
    assert kind not in rule_kinds(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("再拿不到结果，我就去区政府门口跪着。", "gathering"),
        ("今天我就在你们接待室坐着，坐到局长出来为止。", "gathering"),
        ("你们再推，我就把自己锁在街道办里。", "gathering"),
        ("敢拆我家，我就躺在挖掘机前头。", "gathering"),
        ("不见到书记我们不走。", "gathering"),
        ("听说下湾的人要抬棺去乡里。", "gathering"),
        ("群里说周六广场集合维权。", "gathering"),
        ("他叫上两个舅舅去学校找那个老师算账。", "gathering"),
        ("八十多个储户约好了一起去银行总部。", "gathering"),
        ("周边四个寨子的人要一起去州政府。", "gathering"),
        ("周边四个寨子的人要一起去州政府。", "escalate"),
        ("他喝醉了就嚷着要去砍人。", "harm_others"),
        ("他揣着把刀蹲在工地门口等老板。", "harm_others"),
        ("谁拦我我就跟谁拼。", "harm_others"),
        ("我身上绑着炸药，谁也别过来。", "self_harm"),
        ("给省台的调解栏目打了个电话。", "media"),
        ("材料已经提交给市电视台的帮帮团了。", "media"),
    ],
)
def test_thirteenth_pass_families_fire_in_the_rules(text, kind):
    assert kind in rule_kinds(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("我在大厅坐着等叫号。", "gathering"),
        ("老人天天坐在门口晒太阳。", "gathering"),
        ("她坐在医院门口哭了一下午。", "gathering"),
        ("上回我说要坐着不走，是我冲动了。", "gathering"),
        ("他去年在区政府门口跪过，后来问题解决了。", "gathering"),
        ("村里老人去世，按风俗抬棺上山。", "gathering"),
        ("全寨人都跑去看村BA决赛。", "gathering"),
        ("他带着几个表哥去镇上喝喜酒。", "gathering"),
        ("景区门口拉了欢迎横幅。", "gathering"),
        ("孩子在游乐场玩到天黑，坐着就不走了。", "gathering"),
        ("苏州里面的园林真好看。", "escalate"),
        ("气得我想杀人，快递又丢了。", "harm_others"),
        ("他用水果刀削苹果。", "harm_others"),
        ("她拿水果刀抵在自己手腕上。", "harm_others"),
        ("身上绑着绷带，还在康复。", "self_harm"),
    ],
)
def test_thirteenth_pass_look_alikes_stay_quiet_in_the_rules(text, kind):
    assert kind not in rule_kinds(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("主任，我给你们跪下了，房子的事帮帮我。", "gathering"),
        ("她进了接待大厅就跪地喊冤。", "gathering"),
        ("明天我就去镇里打滚，看谁管。", "gathering"),
        ("不解决，今年我就在信访局门口过年。", "gathering"),
        ("我天天到你们办公室坐着，你们看着办。", "gathering"),
        ("他已经在区政府门口站了两天了。", "gathering"),
        ("再不修暖气，我就扛着铺盖去热力公司住下。", "gathering"),
        ("再拖工钱，我就去包工头家门口躺着。", "gathering"),
        ("我现在就在你们售楼部门口，老板出来说句话。", "gathering"),
        ("实在活不下去了，我就领着两个娃从桥上跳下去。", "harm_others"),
        ("谁上来谁也别想下去。", "harm_others"),
        ("他磨了一晚上刀，说是给那个老板准备的。", "harm_others"),
        ("他说要把车开进院里，连人带车一块儿点了。", "self_harm"),
        ("这个人我也不想当了。", "self_harm"),
        ("他在群里说遗书都写好了。", "self_harm"),
        ("她去药店打听安眠药一次吃多少。", "self_harm"),
        ("拆迁款再不给就跳。", "self_harm"),
        ("我把情况说明印了三百份，周末去广场上发。", "media"),
        ("录像我都安排好了，到时候你们别后悔。", "media"),
        ("我想请记者来村里看看这条河。", "media"),
        ("我要给总理写封信。", "escalate"),
        ("材料已发送至省自然资源厅。", "escalate"),
    ],
)
def test_fourteenth_pass_families_fire_in_the_rules(text, kind):
    assert kind in rule_kinds(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("婚礼上新郎给爹妈跪下磕头。", "gathering"),
        ("过年回老家，在亲戚家过年。", "gathering"),
        ("我在产房门口坐了一整夜。", "gathering"),
        ("在便利店门口坐到半夜，雨才停。", "gathering"),
        ("我现在就在你们小区门口取快递。", "gathering"),
        ("她带着孩子回娘家了，说不回来了。", "harm_others"),
        ("抱着孩子的书包从楼上跑下去。", "harm_others"),
        ("年前磨刀，准备给年猪用的。", "harm_others"),
        ("他把那辆车连人带货推进了沟里，是事故。", "self_harm"),
        ("电视剧里的人写了遗书。", "self_harm"),
        ("小孩跳绳，不给买新的就不跳。", "self_harm"),
        ("新店开业，印了五百份传单到街上发。", "media"),
        ("请问媒体说的新政策我们这儿执行了吗？", "media"),
        ("社区请了电视台来拍村晚。", "media"),
        ("孩子给总理写了封感谢信。", "escalate"),
        ("明天我们七八个人去市里的人才市场找工作。", "gathering"),
    ],
)
def test_fourteenth_pass_look_alikes_stay_quiet_in_the_rules(text, kind):
    assert kind not in rule_kinds(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("债主天天上门，她说想带着儿子一起走，免得儿子跟着她遭罪。", "harm_others"),
        ("她在电话里哭，说要抱着伢从江堤上跳下去。", "harm_others"),
        ("他老婆说再逼她就带娃回娘家跳塘。", "harm_others"),
        ("她说不如母女俩一块儿下去算了，省得在这世上受罪。", "harm_others"),
        ("她说不如母女俩一块儿下去算了，省得在这世上受罪。", "self_harm"),
        ("他说要抱着孩子去跳水库。", "harm_others"),
        ("老公走了以后，她天天说要带着娃去找他爸，我们不敢离开她。", "self_harm"),
        ("我舅说征地款再拖，他就关上门窗开煤气。", "self_harm"),
        ("110警情：一女子坐在天台边沿，情绪激动，民警正在劝说。", "self_harm"),
        ("他留了张字条说对不起爸妈，之后手机关机，至今联系不上。", "self_harm"),
        ("真的熬不下去了，昨天买了三盒安眠药。", "self_harm"),
        ("他说钱再不给，就把车开走再也不回来了。", "self_harm"),
        ("孩子要是出了事，我叫你们全院陪葬。", "harm_others"),
        ("接警：一男子拎着铁棍在楼道里追打邻居。", "harm_others"),
        ("据反映，两家的后生各自备好了钢管，约好明天在村口见个高低。", "harm_others"),
        ("他扬言要去幼儿园门口堵包工头的儿子。", "harm_others"),
        ("工资再拖，我们就组团去市人社局问个明白。", "gathering"),
        ("群里说下周去省里上访，已有十几人接龙报名。", "gathering"),
        ("有人提议周五去北京反映情况，已有六户接龙。", "escalate"),
        ("补偿不到位，我们就把货车横在码头上，让所有船都出不去。", "gathering"),
        ("楼下那二十几个人都是我们厂的，是自己来反映问题的。", "gathering"),
        ("记者我都喊好了，明天你们不来人就等着看。", "media"),
        ("我明天就去省台门口坐着，看有没有人管。", "media"),
        ("这趟去省里再试一回，不行就算了。", "escalate"),
    ],
)
def test_fifteenth_pass_families_fire_in_the_rules(text, kind):
    assert kind in rule_kinds(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("下大雨那晚，我搂着孩子一夜没敢睡死。", "harm_others"),
        ("她带着孩子回娘家住几天，过完节就回来。", "harm_others"),
        ("娘俩一起下去买菜了，等会儿就回来。", "harm_others"),
        ("那天他说要带孩子往下跳，两年前的事了，现在一家人挺好。", "harm_others"),
        ("我妈做饭时忘了关煤气，幸好邻居闻到了。", "self_harm"),
        ("工人站在窗台外侧擦玻璃，系着安全绳。", "self_harm"),
        ("他留了张纸条说去省城讨钱了，电话也关机。", "self_harm"),
        ("医生开了两盒安眠药，按医嘱吃。", "self_harm"),
        ("他把船开出去打鱼，要下个月才回来。", "self_harm"),
        ("博物馆里展出了一批陪葬品。", "harm_others"),
        ("新闻说某地一男子持刀威胁路人，已被刑拘。", "harm_others"),
        ("他拿着菜刀在厨房切菜，叫骂孩子不写作业。", "harm_others"),
        ("周末去学校门口接他的女儿放学。", "harm_others"),
        ("我们几个老姐妹组团去省城旅游。", "gathering"),
        ("小区群里已有三十人接龙团购大米。", "gathering"),
        ("台风来了，码头封航，让所有船都出不去。", "gathering"),
        ("楼下那几十个人在排队做核酸。", "gathering"),
        ("我女儿在市台上班，周末去市台加班。", "media"),
        ("记者在拍我们村的舞狮，说要上市台新闻。", "media"),
        ("我骂完就算了，不去省里了。", "escalate"),
    ],
)
def test_fifteenth_pass_look_alikes_stay_quiet_in_the_rules(text, kind):
    assert kind not in rule_kinds(text)


def test_matched_kinds_are_the_kinds_whose_patterns_match():
    """``RuleOutputs.matched`` is read off the signal pass (kinds fired or dropped); it must
    stay what a search of every pattern over the text gives, on real rows of every batch."""
    from app.domain.emotion import _resources
    from bench.emotion_eval import load
    from tools.train_emotion import HELD_OUT

    patterns = _resources().patterns
    # nothing reads a held-out batch before its first run
    rows = [r for r in load() if r.get("batch") not in HELD_OUT][::15]
    assert len(rows) > 500
    for row in rows:
        text = row["text"]
        searched = frozenset(p.kind for p in patterns if p.regex.search(text))
        assert rule_view(text)[1].matched == searched, text


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("听说小区有十来户准备下个月一起去省里讨说法。", "gathering"),
        ("十几个退休职工商定下周结伴进京反映养老金问题。", "gathering"),
        ("二十来个拆迁户在打听去省城的车票，说好周一一起出发。", "gathering"),
        ("五个村的群众约好一块儿去市政府讨说法。", "gathering"),
        ("七名出租车司机把车横在火车站出口，要求取消罚款。", "gathering"),
        ("十几户渔民说补贴再不发，就把渔船停在航道上。", "gathering"),
        ("要拖走我的三轮车可以，我就躺在车轱辘前面。", "gathering"),
        ("约二十名业主聚集在售楼部门口，现场无过激行为。", "gathering"),
        ("再敢来收保护费，我把他脑壳打开花。", "harm_others"),
        ("要强拆就来，我把自家房子连我一起烧了。", "self_harm"),
        ("已经有报社记者联系我们，要来采访欠薪的事。", "media"),
        ("工程款再不给，我们已经通知了电视台。", "media"),
        ("我寻个记者，让他们给你们好好宣传宣传。", "media"),
        ("信息：村民王某今晨到省信访局登记，镇里正在劝返。", "escalate"),
    ],
)
def test_sixteenth_pass_families_fire_in_the_rules(text, kind):
    assert kind in rule_kinds(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("以前说要去省里反映，那是急昏了头，现在问题解决了。", "escalate"),
        ("开始我们是想去市里，现在区里拿出了方案，我们接受了。", "escalate"),
        ("号召业主到区政府门口集合的帖子系误传，发帖人已删帖，表示不再组织。", "gathering"),
        ("本季度进京访零发生，赴省访同比下降三成。", "escalate"),
        ("我这辈子头一回去省城，是去给儿子收尸。", "escalate"),
        ("我们二十三个工友的工资全部到账了。", "gathering"),
        ("车坏在路上，我躺在车底下修了一下午。", "gathering"),
        ("下个月市台记者要来采访我们村的葡萄节。", "media"),
        ("上午有记者来电核实欠薪一事，街道已作答复。", "media"),
        ("她把家里的旧家具连同杂物一起烧了。", "self_harm"),
        ("新搬来的那户在厨房切菜，菜刀声很响。", "harm_others"),
        ("十几个村干部一起去市里开会。", "gathering"),
        ("三个村的小学生一起去县城参加比赛。", "gathering"),
        ("要强拆就来，我把自家房子连我一起烧了。", "harm_others"),
    ],
)
def test_sixteenth_pass_look_alikes_stay_quiet_in_the_rules(text, kind):
    assert kind not in rule_kinds(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("她最近怪怪的，把首饰都送了人，还说以后让我帮她照顾孩子，我好担心。", "self_harm"),
        ("他走了，我守着空房子，干脆跟他一起去了算了。", "self_harm"),
        ("要是我死了，是不是就能换老板把工钱结了？", "self_harm"),
        ("我在这桥边上站了一个多小时了，没人管我。", "self_harm"),
        ("她说实在熬不住，就带着他们一块儿走算了，两个娃还那么小。", "harm_others"),
        ("日子过不下去了，我带他们去找他们的爹。", "harm_others"),
        ("俺娘儿俩一起去了，也少受点罪。", "self_harm"),
        ("工人老周举着写有“还我血汗钱”的牌子站在大桥上。", "gathering"),
        ("当事人调解不成，拒不离开接待室，说不给答复就不走。", "gathering"),
        ("家属扬言要抬着遗体去镇政府讨说法。", "gathering"),
        ("二十多个村民把路口的交通阻断了，要求先发补偿款。", "gathering"),
        ("厂门口一大群人围着，都是来讨薪的。", "gathering"),
        ("她一个人去镇里跪了一整个上午，说不给宅基地就天天来。", "gathering"),
        ("我就搬个板凳坐在挖机前头，看谁敢动。", "gathering"),
        ("有人在地铁口发传单，说开发商卷款跑了，要大家别上当。", "media"),
        ("他把材料分别寄到了省纪委和报社。", "media"),
        ("两个记者到小区采访讨薪的工人，拍了不少镜头。", "media"),
        ("我上回说去省里是气话，可这回是真的，你们看着办。", "escalate"),
    ],
)
def test_seventeenth_pass_families_fire_in_the_rules(text, kind):
    assert kind in rule_kinds(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("搬新家了，旧东西都送人了，以后你帮我看着点老房子。", "self_harm"),
        ("他去赶集，我跟他一起去了。", "self_harm"),
        ("她带俩孩子实在撑不下去了，想申请低保。", "harm_others"),
        ("球迷举着写有队名的牌子在门口等着进场。", "gathering"),
        ("会议室里的代表拒绝离开前先签到。", "gathering"),
        ("出殡那天，亲戚们抬着棺材去了山上。", "gathering"),
        ("大雪封路，交通阻断了一上午，几十个人被困在服务站。", "gathering"),
        ("门口好多人围着看舞狮。", "gathering"),
        ("上完坟，爹在坟前跪了一上午。", "gathering"),
        ("商场门口有人发传单，开业促销打八折。", "media"),
        ("我给报社寄了一封感谢信，表扬我们社区的网格员。", "media"),
        ("电视台的记者来采访我们村的腊肉节。", "media"),
        ("我上回说去省里是气话，现在问题解决了。", "escalate"),
        ("我们分别去了几家医院复查。", "escalate"),
    ],
)
def test_seventeenth_pass_look_alikes_stay_quiet_in_the_rules(text, kind):
    assert kind not in rule_kinds(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("征地款再不兑现，我们就去州自然资源局讨说法。", "escalate"),
        ("几十名培训机构学员家长约好明天去市教育局反映退费。", "escalate"),
        ("他给我发消息说门窗都用胶带封好了，屋里生了个炭盆。", "self_harm"),
        ("债还不上，孩子也不认我，我真找不到理由再活下去。", "self_harm"),
        ("再逼我，我就往江里走，走到水没过头顶为止。", "self_harm"),
        ("邻居说她搂着孩子站在五楼窗台外面好一会儿了。", "self_harm"),
        ("他坐在天台上，说镇里不给个说法他绝不下来。", "self_harm"),
        ("安眠药我攒了小半瓶，哪天熬不住了就一口吞了。", "self_harm"),
        ("爸，这钱我还不上了，以后你们别等我了。", "self_harm"),
        ("儿子没了，我还图个啥，不如随他一起去了。", "self_harm"),
        ("老汉天天蹲在村委会门口，说补偿款不到手就不回去。", "gathering"),
        ("一名外卖员在站点大门口跪着，称押金被扣了半年。", "gathering"),
        ("一名司机开着渣土车堵住工地大门，说运费不给就不挪。", "gathering"),
        ("我就在你们大厅等着，没人给答复我绝不走。", "gathering"),
        ("我就在你们乡政府大厅坐起，今天不给说法不走。", "gathering"),
        ("来访人在区信访局接待室拒不离开，要求当天答复。", "gathering"),
        ("村里十几户商量好了，下周包车去省城讨说法。", "gathering"),
        ("再不退钱，我就睡到售楼处去，看你们管不管。", "gathering"),
        ("条幅我们都印好了，周一拉到区政府门口。", "gathering"),
        ("村民说征地款不到位，明天就去工地阻工。", "gathering"),
        ("死者家属准备在医院大门前摆花圈讨说法。", "gathering"),
        ("他在群里约人去县里闹，说人越多越好。", "gathering"),
        ("他要再来掀我的摊子，我就跟他动手。", "harm_others"),
        ("邻居看见他在院里磨刀，说是要对拆迁组的人动手。", "harm_others"),
        ("他再来闹，我一扁担敲死他。", "harm_others"),
        ("拆迁队敢进院子，来一个砍一个。", "harm_others"),
        ("再敢来催债，我端盆开水泼过去。", "harm_others"),
        ("等我回来，把那几个人一个一个收拾了。", "harm_others"),
        ("他打印了两百份传单，写的是工程款被拖欠三年的事，准备周末到步行街去发。", "media"),
        ("我也帮你们宣传一下，今晚就把视频发到快手上。", "media"),
        ("他在镇政府对面的墙上贴了一张大字报，骂书记贪污。", "media"),
        ("我这就给晚报热线打电话，让他们来看看。", "media"),
        ("我已经开起直播了，让大家看看物业是怎么欺负老人的。", "media"),
        ("那个骗钱的包工头住哪个小区，我已经打听到了，你们别拦我。", "harm_others"),
        ("他喝多了就吼，说迟早把他们全家都杀了。", "harm_others"),
        ("接警：一男子持砍刀在菜市场门口等候其债主。", "harm_others"),
        ("他爬到楼顶坐了一下午，时不时往下看。", "self_harm"),
    ],
)
def test_eighteenth_pass_families_fire_in_the_rules(text, kind):
    assert kind in rule_kinds(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("申请人当场收回了此前“去省里上访”的说法。", "escalate"),
        ("转发《关于依法逐级走访的通知》，禁止越级上访、进京上访。", "escalate"),
        ("电视上说北京有个小区业主在维权，跟我们没关系。", "escalate"),
        ("我去过省里两回，现在不想跑了，就想问问政策。", "escalate"),
        ("下周去市里办护照，顺便看看女儿。", "escalate"),
        ("冬天屋里烧炭取暖，一定要开窗通风。", "self_harm"),
        ("有孙子在，我就有活下去的盼头。", "self_harm"),
        ("我先走一步，你们慢慢吃。", "self_harm"),
        ("今晚单位聚餐，你们先吃，别等我了。", "self_harm"),
        ("我也不跑了，跟老伴一起去旅游。", "self_harm"),
        ("我本来都不想活了，现在好了，谢谢你们。", "self_harm"),
        ("老人每天坐在小区门口晒太阳，天黑了才回去。", "gathering"),
        ("新郎在女方家门口跪下求婚。", "gathering"),
        ("司机把货车停在仓库门口卸货。", "gathering"),
        ("孩子没人接，我就不走了，在学校门口等着。", "gathering"),
        ("村里组织老人包车去县城看灯会。", "gathering"),
        ("婚庆公司的横幅已经做好了。", "gathering"),
        ("工人们守在挖机旁边等师傅来修。", "gathering"),
        ("防止村民阻工，项目部请了保安。", "gathering"),
        ("约了几个人去县里打球。", "gathering"),
        ("村委会组织村民上山找走失的老人。", "gathering"),
        ("他动手能力很强，我要他来帮我装柜子。", "harm_others"),
        ("我就动手做了一桌菜。", "harm_others"),
        ("过年回来要收拾屋子，打扫卫生。", "harm_others"),
        ("他一锄头下去挖出个大红薯。", "harm_others"),
        ("砂锅里的开水泼到了手上，烫起一个泡。", "harm_others"),
        ("他家直播间卖的腊肉挺好吃。", "media"),
        ("我老公天天开着直播钓鱼。", "media"),
        ("我给日报寄了一封表扬信，谢谢社区医生。", "media"),
        ("协议约定双方不再采取张贴大字报等方式。", "media"),
        ("双方和解，申请人撤回了“要找记者曝光”的说法。", "media"),
        ("我同学住哪个小区我打听到了，周末去看望她。", "harm_others"),
        ("该男子曾持刀威胁邻居，已被拘留，近半年无异常。", "harm_others"),
        ("他把鸡鸭都杀了，准备过年。", "harm_others"),
    ],
)
def test_eighteenth_pass_look_alikes_stay_quiet_in_the_rules(text, kind):
    assert kind not in rule_kinds(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("北京再不管，我就找外媒来报道。", "media"),
        ("我保留向媒体曝光的权利。", "media"),
        ("去省城上访，报名的已经有五十多人了。", "escalate"),
        ("他找了几个社会闲散人员，说要去收拾那个举报他的人。", "harm_others"),
        ("老人说农药她留着，哪天撑不下去了就喝。", "self_harm"),
        ("这个月补偿款还不到，月底我就不在了。", "self_harm"),
        ("他们来收船那天，我就把船开到深海弄沉，我也在船上。", "self_harm"),
        ("老伴走了，房子也要拆了，到时候我也跟着走了算了。", "self_harm"),
        ("我就坐在镇政府门口，等书记给个答复。", "gathering"),
        ("补贴再不发，我就把渔船横在码头出口，谁也别想出港。", "gathering"),
        ("明天我举块牌子站到开发商门口，让路过的人都看看他们的黑心。", "gathering"),
        ("再拖下去，我就把自己绑在乡政府的旗杆上。", "gathering"),
    ],
)
def test_nineteenth_pass_families_fire_in_the_rules(text, kind):
    assert kind in rule_kinds(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("我冇说过要去省里告，莫冤枉我。", "escalate"),
        ("上回说要去电视台，现在已经不打算了。", "media"),
        ("当事人原计划赴京，经劝说已放弃。", "escalate"),
        ("前年我去了趟北京，啥也没办成。", "escalate"),
        ("请问去北京看孙子，医保怎么备案？", "escalate"),
        ("奶奶把安眠药当成维生素吃了一片。", "self_harm"),
        ("医生开的安眠药，他每晚吃半片才睡得着。", "self_harm"),
        ("月底我就不在了，去海南过冬。", "self_harm"),
        ("赶集的人都散了，我也跟着走了。", "self_harm"),
        ("渔船开了，我也跟着走了。", "self_harm"),
        ("路上堵车，你们别等我了。", "self_harm"),
        ("本来说好去售楼部拉横幅，后来开发商复工了。", "gathering"),
        ("快递车停在店门口卸货，顾客进不来。", "gathering"),
        ("原本想举个牌子去曝光他，想想还是算了。", "media"),
    ],
)
def test_nineteenth_pass_look_alikes_stay_quiet_in_the_rules(text, kind):
    assert kind not in rule_kinds(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("欠的钱再不给，我就死在你们厂里，看你们怎么收场。", "self_harm"),
        ("说好的低保不给办，我这条老命就撂在你们大厅了。", "self_harm"),
        ("唔想活啦，屋冇咗，工又冇咗。", "self_harm"),
        ("谁敢来拖我的车，我就把自己绑在车上，拖到哪烧到哪。", "self_harm"),
        ("我就从这楼上跳，把那个包工头也拉下去。", "harm_others"),
        ("老头说日子没法过了，咱俩一块儿喝农药算了。", "harm_others"),
        ("他们几个揣着铁棍，说晚上去工地找老板“算账”。", "harm_others"),
        ("城管要是再来掀摊子，我就跟他们干。", "harm_others"),
        ("你们今天见不着主任，我就不走了。", "gathering"),
        ("几户人家在镇政府接待室门口打地铺，要求给个说法。", "gathering"),
        ("明天我去县政府门口举牌子，让大家评评理。", "gathering"),
        ("敢拆我家，我就把自己跟大门锁在一块儿。", "gathering"),
        ("果农商量着把卖不掉的西瓜拉到区政府门口。", "gathering"),
        ("我就带着被褥睡到市政府门口去。", "gathering"),
        ("房东再不退押金，我就把他的照片和电话挂到网上。", "media"),
        ("我跪在街道办门口那天，真丢人，可下礼拜我还得去跪。", "gathering"),
    ],
)
def test_twentieth_pass_families_fire_in_the_rules(text, kind):
    assert kind in rule_kinds(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("邻居早就不提去北京了，那股劲儿早过去了。", "escalate"),
        ("老张说要去市里的事早拉倒了。", "escalate"),
        ("本来想着去找电视台，后来孩子劝我算了。", "media"),
        ("听说那个要喝药的大姐被邻居救下来了。", "self_harm"),
        ("听说隔壁村的老汉喝了农药，人没救过来。", "self_harm"),
        ("我闺女跳河那年才十九岁。", "self_harm"),
        ("两口子吵着要同归于尽，后来又和好了。", "harm_others"),
        ("我们几个在网吧玩游戏，他喊“同归于尽”。", "self_harm"),
        ("我妈在快手直播卖自家做的腊肠。", "media"),
        ("物业问能不能组织大家周末一起铲雪。", "gathering"),
        ("路边雪堆太高，挡住了公交车。", "gathering"),
        ("他天天把三轮车堵我家门口，说了也不听。", "gathering"),
        ("小区门口挂了横幅，谢谢消防队救火。", "gathering"),
        ("姥姥在菜园打药剩下的农药瓶，已经收进柜子了。", "self_harm"),
        ("社保中心让我去市里面谈一下资料。", "escalate"),
        ("我给中央电视台写信，点播了一首老歌。", "escalate"),
        ("我婆婆炸了一盘带鱼，过年吃。", "harm_others"),
        ("那个混混把我弟弟打得住院了，派出所已经立案。", "harm_others"),
        ("我拿铁链把自己的电动车锁在楼下。", "harm_others"),
        ("我要是年轻十岁，早就跟他干起来了。", "harm_others"),
        ("我能不能直接去市里办这个证？", "escalate"),
    ],
)
def test_twentieth_pass_look_alikes_stay_quiet_in_the_rules(text, kind):
    assert kind not in rule_kinds(text)
