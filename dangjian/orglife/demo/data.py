"""The demo bureau's organisational-life data: which organisations play a part, the holidays, and the
themes, topics and agenda items its meetings draw from."""

import datetime as dt
from typing import TYPE_CHECKING

from dangjian.organizations.models import Organization, Unit
from dangjian.orglife.models import AgendaItem, Attendance, MeetingKind

if TYPE_CHECKING:
    pass


ROOT_CODE = "JTJ"  # the bureau's root organisation (局党组), as the organisations step codes it
ORGAN_COMMITTEE_CODE = "JTJ-01"  # 机关党委: the 党组 secretary's 七一 党课 is held for all its members
LEADERS_BRANCH = "JTJ-01-01-01"  # 机关第一党支部: the 党组成员 are its members (局领导党小组)
GAP_BRANCH = "JTJ-01-02-03"  # 公交运营监管处党支部: skips two 支委会 this year
MID_YEAR_BRANCH = "JTJ-01-03-06"  # 开发区分局党支部: founded this year (as is 智慧交通处党支部)

TAG_CONGRESS = "学习贯彻党的二十大精神"  # 2022–2023 (rule data); the demo's years are later
TAG_HISTORY = "党史学习教育"  # 2021 only (rule data)
# A study theme chosen by date: the study campaign (学习教育, rule data) in effect that day, else the
# latest plenum's spirit within a year of it, else nothing (the entry's fallback topic is used).
CAMPAIGN = "campaign"
# Plenums the demo's meetings relay and study (dated facts): the day it closed -> what is studied.
PLENUMS = {
    dt.date(2025, 10, 23): "学习贯彻党的二十届四中全会精神",
}
# Topics for a campaign's sessions, by its tag ({c} is the tag); a campaign not listed uses the generic.
CAMPAIGN_TOPICS = {
    "深入贯彻中央八项规定精神学习教育": ["学习《中共中央政治局贯彻落实中央八项规定实施细则》，对照查摆作风问题",
                                  "深入贯彻中央八项规定精神学习教育：以案促学，开展警示教育"],
    "树立和践行正确政绩观学习教育": ["学习习近平总书记关于树立和践行正确政绩观的重要论述，交流研讨",
                               "对照“为人民出政绩、以实干出政绩”，查摆交通项目建设中的政绩观偏差"],
    "学习贯彻党的二十届四中全会精神": ["学习党的二十届四中全会精神，研讨“十五五”交通运输发展思路",
                                "学习《中共中央关于制定国民经济和社会发展第十五个五年规划的建议》"],
}
GENERIC_CAMPAIGN_TOPICS = ["{c}：集中学习研讨"]

K = Organization.Kind
MK = MeetingKind
Cat = AgendaItem.Category
Reason = Attendance.AbsenceReason

# Days without meetings: 元旦, 劳动节 and 国庆 holidays, and Spring Festival week (see spring_festival).
HOLIDAYS = {(1, 1), (5, 1), (5, 2), (5, 3), (5, 4), (5, 5), *((10, d) for d in range(1, 8))}


def spring_festival(year: int) -> tuple[dt.date, dt.date]:
    """The Spring Festival holiday of `year` as the demo keeps it free of meetings: from two days
    before 春节 (腊月廿八 or 除夕) to 初七, computed from the lunar calendar."""
    from lunardate import LunarDate

    new_year = LunarDate(year, 1, 1).to_solar_date()
    return new_year - dt.timedelta(days=2), new_year + dt.timedelta(days=6)

# ---------------------------------------------------------------- topics, as data

# 主题党日 by month: (topic, place or "" for the branch's own rooms, study tags).
THEME_DAYS = {
    1: [("学习全市交通运输工作会议精神，谋划全年重点工作", "", ()),
        ("新春走访慰问困难党员和老党员", "", ())],
    2: [("春运志愿服务：客运站旅客疏导与安全宣传", "临江汽车客运总站", ()),
        ("专题学习：推进“四好农村路”高质量发展", "", ())],
    3: [("学雷锋志愿服务：文明交通劝导进路口", "人民路与解放路交叉口", ()),
        ("学习研讨", "", CAMPAIGN),
        ("学习全国“两会”精神，交流交通运输高质量发展体会", "", ())],
    4: [("清明祭扫临江革命烈士陵园，开展革命传统教育", "临江革命烈士陵园", ()),
        ("学习研讨", "", CAMPAIGN)],
    5: [("青年党员座谈：新时代交通人的初心与担当", "", ()),
        ("学习研讨", "", CAMPAIGN),
        ("走访道路运输企业，听需求、解难题、优化营商环境", "", ())],
    6: [("“安全生产月”主题党日：重点路段和站场安全隐患排查", "", ()),
        ("学习研讨", "", CAMPAIGN)],
    7: [("庆祝建党纪念日：重温入党誓词、过“政治生日”", "", ()),
        ("学习《中国共产党简史》有关章节", "", ()),
        ("学习研讨", "", CAMPAIGN)],
    8: [("参观临江市廉政教育基地，筑牢拒腐防变思想防线", "临江市廉政教育基地", ()),
        ("高温慰问：走访公交场站和执法一线岗点", "", ())],
    9: [("开学季校园周边交通安全宣传志愿服务", "", ()),
        ("“我为群众办实事”：调研农村客运班线“出行难”问题", "", ())],
    10: [("学习《交通强国建设纲要》，交流岗位落实体会", "", ()),
         ("国庆假期交通运输保障工作总结交流", "", ())],
    11: [("学习研讨", "", CAMPAIGN),
         ("冬季道路保通保畅专题学习", "", ())],
    12: [("“12·2”全国交通安全日宣传志愿服务", "城东客运站", ()),
         ("年度学习心得交流", "", ())],
}
# Themes of a branch's own work, used in about a third of the months: by the unit its people work
# in, else by the kind of that unit.
_ENFORCEMENT = ["执法为民：规范执法行为专题学习", "治超治限联合执法一线学习交流", "交通执法“强基提质”专题研讨"]
UNIT_THEMES = {
    "JTJ-ZFZD": _ENFORCEMENT,
    "JTJ-CZZX": ["出租汽车行业文明服务创建交流", "网约车合规化经营专题学习", "巡游出租车服务质量投诉分析"],
    "JTJ-YSFW": ["窗口服务“好差评”分析：提升政务服务满意度", "“微笑服务”窗口党员示范岗评比", "网约车合规化经营专题学习"],
    "JTJ-GDJS": ["轨道交通建设工地安全生产检查", "地铁三号线建设党建联建交流"],
}
UNIT_KIND_THEMES = {
    Unit.Kind.BUREAU: ["老党员讲临江交通发展史", "观看“交通强国”专题片并座谈"],  # the retired cadres' branch
    Unit.Kind.DEPARTMENT: ["机关作风建设：“提效率、优服务”讨论", "公文处理和保密工作专题学习", "“1小时交通圈”规划专题学习",
                           "节约型机关建设专题学习"],
    Unit.Kind.BRANCH_OFFICE: ["走访辖区公交站点，收集群众出行意见", "辖区道路运输企业安全生产检查", "辖区农村公路养护情况调研"],
    Unit.Kind.AFFILIATED_UNIT: _ENFORCEMENT[:1],
}
COMMITTEE_TOPICS = [
    "研究本月主题党日活动安排；通报上月工作完成情况",
    "研究发展党员工作，听取入党积极分子培养考察情况",
    "研究党费收缴和党员教育管理工作",
    "研究“我为群众办实事”项目推进情况",
    "研究支部意识形态工作和党员思想动态",
    "研究党风廉政建设和廉政风险防控措施",
    "研究党建与业务融合工作，部署安全生产重点任务",
]
CELL_TOPICS = [
    "学习传达支部主题党日精神，交流学习体会",
    "学习习近平总书记关于交通运输工作的重要论述",
    "讨论本组党员志愿服务安排",
    "收集党员对支部工作的意见建议",
    "学习近期典型案例通报，开展警示教育",
    "交流岗位练兵和服务群众情况",
]
GENERAL_TOPICS = [
    "通报支部上季度工作情况，部署本季度重点任务",
    "学习贯彻上级党组织会议精神，通报党费收缴情况",
    "讨论支部年度工作计划执行情况",
    "通报党员教育管理情况，部署“三会一课”落实工作",
]
LECTURE_TOPICS = [
    ("以中国式现代化引领交通强国建设", ()),
    ("新时代交通人的初心使命", ()),
    ("从党史中汲取奋进力量", ()),
    ("专题党课", CAMPAIGN),
    ("严守纪律规矩，做忠诚干净担当的交通人", ()),
    ("践行以人民为中心的发展思想，破解群众“出行难”", ()),
    ("安全生产责任重于泰山", ()),
    ("坚持“三个务必”，锤炼过硬作风", ()),
]
CENTRAL_GROUP_TOPICS = [
    "学习习近平经济思想，研讨以中国式现代化全面推进交通运输高质量发展",
    "学习《习近平谈治国理政》有关交通强国建设的论述",
    "学习习近平总书记关于安全生产的重要论述",
    "学习《中国共产党纪律处分条例》，研讨全面从严治党",
    "学习贯彻中央经济工作会议精神，研讨“1小时交通圈”建设",
    "学习习近平总书记关于调查研究的重要论述",
    "学习习近平总书记关于坚持以人民为中心的重要论述，研讨提升窗口服务水平",
]
THEME_BODIES = [
    "党员们围绕主题逐一交流发言，结合岗位实际查找差距、明确改进措施。",
    "全体党员重温入党誓词，支部书记就下阶段工作提出要求。",
    "党员们分组开展志愿服务，现场收集群众意见建议并登记转办。",
    "支部书记领学有关文件，党员代表作交流发言。",
]
ABSENCE_NOTES = {
    Reason.OFFICIAL: ["赴省交通运输厅参加培训", "参加全市安全生产检查", "外出执法任务", "驻村帮扶", "出差参加项目评审"],
    Reason.SICK: ["身体不适", "住院治疗", "病假休养"],
    Reason.PERSONAL: ["家中有事", "陪护家人就医", "子女入学事宜"],
}

# 党组会 items. The yearly round first, by month (the first 党组会 of the month takes them):
# (title, category, voted); "{y}" is the year, "{q}" the quarter just ended.
YEARLY_ITEMS = {
    1: [("研究{y}年局党建工作要点", Cat.MAJOR_MATTER, True),
        ("研究春运期间道路运输保障工作方案", Cat.MAJOR_MATTER, True)],
    2: [("研究{y}年度全面从严治党主体责任清单", Cat.MAJOR_MATTER, True),
        ("研究班子成员{y}年“一岗双责”承诺事项", Cat.ORDINARY, True)],
    3: [("研究{y}年度党员干部教育培训计划", Cat.ORDINARY, True)],
    4: [("听取{q}安全生产形势和意识形态领域风险分析汇报", Cat.ORDINARY, False)],
    5: [("研究汛期交通运输安全保障方案", Cat.MAJOR_MATTER, True)],
    7: [("听取上半年全面从严治党和党风廉政建设工作情况汇报", Cat.ORDINARY, False),
        ("听取{q}安全生产形势和意识形态领域风险分析汇报", Cat.ORDINARY, False)],
    9: [("研究国庆假期道路运输保障工作方案", Cat.MAJOR_MATTER, True)],
    10: [("听取{q}安全生产形势和意识形态领域风险分析汇报", Cat.ORDINARY, False)],
    12: [("研究{y}年度党组领导班子民主生活会实施方案", Cat.ORDINARY, True),
         ("听取全年全面从严治党和党风廉政建设工作情况汇报", Cat.ORDINARY, False)],
}
# The rest is drawn without repeats within a year: (title, voted).
ORDINARY_ITEMS = [
    ("听取意识形态工作情况汇报", False),
    ("研究局机关公务接待管理办法（修订）", True),
    ("听取巡察整改工作进展情况汇报", False),
    ("研究“我为群众办实事”项目清单", True),
    ("听取城乡客运一体化工作推进情况汇报", False),
    ("研究局机关节能降耗工作方案", True),
    ("听取政务服务窗口“好差评”情况汇报", False),
    ("研究党务公开目录（修订）", True),
    ("听取“1小时交通圈”建设进展情况汇报", False),
    ("研究关于加强领导干部“八小时以外”监督管理的实施办法", True),
]
MAJOR_MATTERS = [
    "研究局党组会、局长办公会议事规则（修订稿）",
    "研究巡察反馈问题整改方案",
    "研究中心城区公交线网优化调整方案",
    "研究出租汽车运价调整听证方案",
    "研究局属单位“三重一大”集体决策实施办法",
    "研究“1小时交通圈”建设三年行动方案",
    "研究网约车管理实施细则（修订稿）",
    "研究交通运输领域廉政风险防控方案",
    "研究局系统巡察工作规划",
]
KEY_APPOINTMENTS = [
    "研究城东分局副局长拟任人选",
    "研究城西分局副局长拟任人选",
    "研究交通执法支队副支队长拟任人选",
    "研究交通执法支队中层干部轮岗交流方案",
    "研究局机关四级调研员职级晋升人选",
    "研究出租汽车管理中心副主任拟任人选",
    "研究运输服务中心科级干部拟任人选",
    "研究局属单位科级干部试用期满考核结果",
    "研究公路管理处副处长拟任人选",
]
MAJOR_PROJECTS = [
    "研究临江大道快速化改造工程初步设计方案",
    "研究城乡公交一体化三期项目立项",
    "研究智慧交通指挥中心（二期）建设项目",
    "研究农村公路提质改造工程年度实施计划",
    "研究城南综合客运枢纽项目前期工作方案",
    "研究地铁三号线施工期间交通疏解方案",
    "研究开发区公交首末站建设项目",
    "研究国省道危桥改造工程实施方案",
]
# (purpose, amounts in 万元 to choose from)
LARGE_FUNDS = [
    ("拨付农村公路养护专项资金", (380, 520, 650)),
    ("支付城乡公交运营补贴", (1200, 2350)),
    ("采购交通执法执勤车辆", (186, 236)),
    ("政务服务窗口智能化改造", (68, 95)),
    ("公交场站安全隐患整治经费", (150, 210)),
    ("出租汽车电动化更新奖补资金", (860, 1050)),
    ("局机关办公楼维修改造", (75, 120)),
    ("农村客运班线运营补助", (310, 420)),
    ("交通运输综合执法信息系统运维经费", (58, 88)),
]
QUARTERS = ("第一季度", "第二季度", "第三季度", "第四季度")
# How the minutes name what was held.
HELD = {
    MK.THEME_DAY: "开展主题党日活动", MK.COMMITTEE_MEETING: "召开支部委员会会议", MK.CELL_MEETING: "召开党小组会",
    MK.GENERAL_MEETING: "召开支部党员大会", MK.PARTY_LECTURE: "举行党课", MK.ORGANIZATIONAL_LIFE_MEETING: "召开组织生活会",
    MK.LEADING_GROUP_MEETING: "召开党组会议", MK.CENTRAL_GROUP_STUDY: "举行党组理论学习中心组集体学习",
    MK.SPECIAL_MEETING: "召开专题会议", MK.DEMOCRATIC_LIFE_MEETING: "召开党组领导班子民主生活会",
}


# ---------------------------------------------------------------- the step
